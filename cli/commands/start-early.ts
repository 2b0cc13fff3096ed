/**
 * The first thing `meshsig start` does once it has its configuration and
 * identity: bind the API port (a port in use fails here, at once) and answer
 * `GET /health` with `"mesh": "starting"` while the store, the services, the
 * API and libp2p load (issue 13; docs/api.md, `GET /health`; decision 0021).
 * Loads nothing heavy: the full API takes the port over when it is built.
 */
import { createServer } from 'node:net'
import { listenApi, type ApiListener } from '../../api/listener.js'
import { apiOptionsFromConfig, resolveApiOptions } from '../../api/options.js'
import type { ApiHealth } from '../../api/types.js'
import { apiVersion } from '../../api/version.js'
import type { NodeConfig } from '../../node/config.js'
import { didKeyFromPublicKey, peerIdFromPublicKey } from '../../node/core/did.js'
import { MeshsigError } from '../../node/core/errors.js'
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

/** The one line for mesh ports in use: both ports and the flag that moves them. */
export function meshPortsInUse(config: Pick<NodeConfig, 'host' | 'p2pPort'>): MeshsigError {
  return new MeshsigError(
    'INVALID_INPUT',
    `cannot listen on ${config.host}:${config.p2pPort} (mesh TCP) and ${config.p2pPort + 1} (mesh WebSocket): ` +
      'address in use; choose other ports with --p2p-port (WebSocket uses the next one)',
  )
}

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer()
    probe.once('error', () => resolve(false))
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(true)))
  })
}

/**
 * Fail at once when a fixed mesh port (TCP, or WebSocket on the next one) is
 * taken, instead of after libp2p has loaded. A port taken between this probe
 * and libp2p's own listen still fails there, with the same line.
 */
export async function checkMeshPorts(config: Pick<NodeConfig, 'host' | 'p2pPort'>): Promise<void> {
  if (config.p2pPort === 0) return
  const host = config.host === 'localhost' ? '127.0.0.1' : config.host
  for (const port of [config.p2pPort, config.p2pPort + 1]) {
    if (!(await portFree(host, port))) throw meshPortsInUse(config)
  }
}

/**
 * Check the API options (an unsafe combination throws before anything
 * listens) and the mesh ports, bind the API port and answer `/health` until
 * the node serves.
 */
export async function listenEarly(config: NodeConfig, identity: Identity, token: string): Promise<ApiListener> {
  const opts = resolveApiOptions(apiOptionsFromConfig(config, { token }))
  await checkMeshPorts(config)
  const health = startingHealth(config, identity, opts.trustLoopback)
  return listenApi(config, opts, () => health)
}
