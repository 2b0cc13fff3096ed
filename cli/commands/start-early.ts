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

/** A port `meshsig start` listens on, and what for. */
export interface PortUse {
  readonly port: number
  readonly role: 'API' | 'mesh TCP' | 'mesh WebSocket'
}

/** The fixed ports of a configuration (0, OS-chosen, is never in use). */
function portsOf(config: Pick<NodeConfig, 'port' | 'p2pPort'>): PortUse[] {
  const api: PortUse[] = config.port === 0 ? [] : [{ port: config.port, role: 'API' }]
  if (config.p2pPort === 0) return api
  return [...api, { port: config.p2pPort, role: 'mesh TCP' }, { port: config.p2pPort + 1, role: 'mesh WebSocket' }]
}

/**
 * The one line for ports in use: every port taken, in one go, and the flags
 * that move them (`--port` the API, `--p2p-port` the mesh; with no
 * `--p2p-port` the mesh follows the API port, so another `--port` moves all).
 */
export function portsInUse(
  config: Pick<NodeConfig, 'host' | 'port' | 'p2pPort'>,
  taken: readonly PortUse[],
): MeshsigError {
  const named = taken.map((t, i) => `${i === 0 ? `${config.host}:` : ''}${t.port} (${t.role})`)
  const where = named.length > 1 ? `${named.slice(0, -1).join(', ')} and ${named.at(-1) ?? ''}` : (named[0] ?? '')
  const api = taken.some((t) => t.role === 'API')
  const mesh = taken.some((t) => t.role !== 'API')
  const follows = mesh && !api && config.port !== 0 && config.p2pPort === config.port + 1
  const hint = !mesh
    ? 'choose another port with --port'
    : `choose other ports with ${api ? '--port (the API) and ' : ''}--p2p-port (mesh TCP; WebSocket uses the next one)` +
      (follows ? ', or another --port (the mesh takes the next two)' : '')
  return new MeshsigError('INVALID_INPUT', `cannot listen on ${where}: address in use; ${hint}`)
}

/** The line for mesh ports libp2p could not listen on (which one is not known): both, and the flags. */
export function meshPortsInUse(config: Pick<NodeConfig, 'host' | 'port' | 'p2pPort'>): MeshsigError {
  return portsInUse(
    config,
    portsOf(config).filter((p) => p.role !== 'API'),
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
 * Fail at once when a fixed port (the API, mesh TCP, or mesh WebSocket on the
 * next one) is taken, naming every one taken, instead of the first alone or
 * after libp2p has loaded. A port taken between this probe and the real
 * listen still fails there: the API's with its own line, the mesh's with
 * `meshPortsInUse`.
 */
export async function checkPorts(config: Pick<NodeConfig, 'host' | 'port' | 'p2pPort'>): Promise<void> {
  const meshHost = config.host === 'localhost' ? '127.0.0.1' : config.host // as libp2p listens
  const taken: PortUse[] = []
  for (const use of portsOf(config)) {
    if (!(await portFree(use.role === 'API' ? config.host : meshHost, use.port))) taken.push(use)
  }
  if (taken.length > 0) throw portsInUse(config, taken)
}

/**
 * Check the API options (an unsafe combination throws before anything
 * listens) and every fixed port, bind the API port and answer `/health` until
 * the node serves.
 */
export async function listenEarly(config: NodeConfig, identity: Identity, token: string): Promise<ApiListener> {
  const opts = resolveApiOptions(apiOptionsFromConfig(config, { token }))
  await checkPorts(config)
  const health = startingHealth(config, identity, opts.trustLoopback)
  return listenApi(config, opts, () => health)
}
