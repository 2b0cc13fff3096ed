/**
 * The first thing `meshsig start` does once it has its configuration and
 * identity: bind the API port (a port in use fails here, at once) and answer
 * `GET /health` with `"mesh": "starting"` while the store, the services, the
 * API and libp2p load (issue 13; docs/api.md, `GET /health`; decision 0024).
 * Loads nothing heavy: the full API takes the port over when it is built.
 */
import { listenApi, type ApiListener } from '../../api/listener.js'
import { apiOptionsFromConfig, resolveApiOptions } from '../../api/options.js'
import type { ApiHealth } from '../../api/types.js'
import { apiVersion } from '../../api/version.js'
import type { NodeConfig } from '../../node/config.js'
import { didKeyFromPublicKey, peerIdFromPublicKey } from '../../node/core/did.js'
import type { Identity } from '../../node/identity/index.js'

/**
 * What `/health` says before the node is built: the same public facts the
 * node reports (its name, DID, did:key and PeerId, all from the identity),
 * no addresses yet, `mesh: "starting"`.
 */
export function startingHealth(config: NodeConfig, identity: Identity, trustLoopback: boolean): ApiHealth {
  return {
    status: 'ok',
    name: config.name,
    did: identity.did,
    didKey: didKeyFromPublicKey(Buffer.from(identity.keyState.key, 'base64')),
    peerId: peerIdFromPublicKey(identity.keyPair.publicKey),
    multiaddrs: [],
    uptime: 0,
    mesh: 'starting',
    version: apiVersion(),
    trustLoopback,
  }
}

/**
 * Check the API options (an unsafe combination throws before anything
 * listens), bind the API port and answer `/health` until the node serves.
 */
export async function listenEarly(config: NodeConfig, identity: Identity, token: string): Promise<ApiListener> {
  const opts = resolveApiOptions(apiOptionsFromConfig(config, { token }))
  const health = startingHealth(config, identity, opts.trustLoopback)
  return listenApi(config, opts, () => health)
}
