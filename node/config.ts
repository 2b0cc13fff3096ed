/**
 * Node configuration: defaults ← `$MESHSIG_HOME/config.json` ← environment
 * ← command-line flags, validated once with clear errors. Nothing is needed:
 * with no file, no variables and no flags, a node runs on its defaults.
 */
import { existsSync, readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import * as z from 'zod'
import { MeshsigError } from './core/errors.js'

/** A validated node configuration. */
export interface NodeConfig {
  /** meshsig home folder (identity, token, database). */
  readonly home: string
  /** HTTP API port. */
  readonly port: number
  /** Address the API and the mesh bind (127.0.0.1 by default). */
  readonly host: string
  /** libp2p TCP port (WebSockets listens on the next port); 0 = OS-chosen. */
  readonly p2pPort: number
  /** SQLite file. */
  readonly db: string
  /** Node name shown to peers. */
  readonly name: string
  /** Peers to join (multiaddr or ws://host:port). */
  readonly peers: readonly string[]
  /** Message freshness window (ms). */
  readonly maxSkewMs: number
  /** API requests per minute per client address (0 = no limit). */
  readonly rateLimit: number
  /** Proxy addresses whose X-Forwarded-For is trusted. */
  readonly trustProxy: readonly string[]
  /** Extra Host header names the API answers to (e.g. this server's DNS name). */
  readonly allowedHosts: readonly string[]
  /**
   * Treat every loopback caller as the operator (docs/protocol.md §8): only
   * for a single-user machine. Off by default; the node warns at start and
   * says so in `/health` and on the dashboard.
   */
  readonly trustLoopback: boolean
}

/** The highest TCP port. */
const MAX_PORT = 65535
const PORT_RANGE = `must be a port within 1..${MAX_PORT} (0 = OS-chosen)`

/** A TCP port: 1..65535, or 0 for an OS-chosen one. */
const port = z.coerce.number().int(PORT_RANGE).min(0, PORT_RANGE).max(MAX_PORT, PORT_RANGE)

const schema = z.strictObject({
  port: port.default(4888),
  host: z.string().min(1).default('127.0.0.1'),
  p2pPort: port.optional(),
  db: z.string().min(1).optional(),
  name: z.string().min(1).max(128).optional(),
  peers: z.array(z.string().min(1)).default([]),
  maxSkewMs: z.coerce
    .number()
    .int()
    .positive()
    .default(5 * 60 * 1000),
  rateLimit: z.coerce.number().int().nonnegative().default(60),
  trustProxy: z.array(z.string()).default([]),
  allowedHosts: z.array(z.string().min(1)).default([]),
  trustLoopback: z
    .union([z.boolean(), z.enum(['1', 'true', 'yes', '0', 'false', 'no', ''])])
    .default(false)
    .transform((v) => v === true || v === '1' || v === 'true' || v === 'yes'),
})

/** Sources of configuration values, weakest first after the file. */
export interface ConfigSources {
  readonly home: string
  readonly env?: NodeJS.ProcessEnv
  readonly flags?: Record<string, unknown>
  /** Reads a file's text, undefined when it does not exist (default: from disk; tests pass a map). */
  readonly readFile?: (path: string) => string | undefined
  /** The default node name (default: this machine's host name). */
  readonly hostname?: () => string
}

/** Read a text file from disk; undefined when there is none. */
function readFromDisk(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined
}

const ENV_KEYS: Record<string, string> = {
  MESHSIG_PORT: 'port',
  MESHSIG_HOST: 'host',
  MESHSIG_P2P_PORT: 'p2pPort',
  MESHSIG_DB: 'db',
  MESHSIG_NAME: 'name',
  MESHSIG_MAX_SKEW_MS: 'maxSkewMs',
  MESHSIG_RATE_LIMIT: 'rateLimit',
  MESHSIG_TRUST_LOOPBACK: 'trustLoopback',
}

function readFileConfig(home: string, read: (path: string) => string | undefined): Record<string, unknown> {
  const path = join(home, 'config.json')
  const text = read(path)
  if (text === undefined) return {}
  try {
    return JSON.parse(text) as Record<string, unknown>
  } catch (err) {
    throw new MeshsigError('INVALID_INPUT', `${path} is not valid JSON: ${(err as Error).message}`)
  }
}

/** Comma-separated list variables. */
const LIST_ENV_KEYS: Record<string, string> = {
  MESHSIG_PEERS: 'peers',
  MESHSIG_ALLOWED_HOSTS: 'allowedHosts',
  MESHSIG_TRUST_PROXY: 'trustProxy',
}

function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, key] of Object.entries(ENV_KEYS)) if (env[name]) out[key] = env[name]
  for (const [name, key] of Object.entries(LIST_ENV_KEYS)) {
    const v = env[name]
    if (v)
      out[key] = v
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean)
  }
  return out
}

function definedOnly(flags: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(flags).filter(([k, v]) => v !== undefined && k in schema.shape))
}

/** `meshsig start` flags, by setting. */
const FLAGS: Record<string, string> = {
  port: '--port',
  host: '--host',
  p2pPort: '--p2p-port',
  peers: '--peer',
  db: '--db',
  name: '--name',
  allowedHosts: '--allowed-host',
  trustLoopback: '--trust-loopback',
}

/** Every setting's sources, strongest first, so an error names what the user actually wrote. */
interface Layers {
  readonly home: string
  readonly flags: Record<string, unknown>
  readonly env: Record<string, unknown>
  readonly file: Record<string, unknown>
}

/** How the user set `key`: the flag, the environment variable or the config file entry. */
function settingName(key: string, layers: Layers): string {
  if (key in layers.flags) return FLAGS[key] ?? key
  if (key in layers.env) {
    const variable = Object.entries({ ...ENV_KEYS, ...LIST_ENV_KEYS }).find(([, k]) => k === key)?.[0]
    if (variable !== undefined) return variable
  }
  if (key in layers.file) return `"${key}" in ${join(layers.home, 'config.json')}`
  return FLAGS[key] ?? key
}

/**
 * The mesh listens on TCP `p2pPort` and WebSockets `p2pPort + 1`, derived from the API port
 * (`port + 1`) unless set: every one of them must stay within 1..65535 (0 = OS-chosen).
 */
function checkPorts(port: number, p2pPort: number | undefined, layers: Layers): number {
  const tcp = p2pPort ?? (port === 0 ? 0 : port + 1)
  if (tcp === 0 || tcp + 1 <= MAX_PORT) return tcp
  const problem =
    p2pPort === undefined
      ? `${settingName('port', layers)}: ${port} puts the mesh on TCP ${tcp} and WebSockets ${tcp + 1} ` +
        `(port + 1, port + 2), above ${MAX_PORT}; use at most ${MAX_PORT - 2} or set ${FLAGS.p2pPort}`
      : `${settingName('p2pPort', layers)}: ${tcp} puts WebSockets on ${tcp + 1} (p2p port + 1), ` +
        `above ${MAX_PORT}; use at most ${MAX_PORT - 1}`
  throw new MeshsigError('INVALID_INPUT', `invalid ${problem}`)
}

/**
 * Every peer must be a multiaddr or a seed address: a typo ends `meshsig
 * start` before anything listens. The checker (multiaddr and PeerId parsing)
 * loads only when there are peers to check, so a node with none binds its
 * API port without loading them (issue 13).
 */
async function checkPeers(peers: readonly string[], layers: Layers): Promise<readonly string[]> {
  if (peers.length === 0) return peers
  const { PEER_FORMS, peerAddressProblem } = await import('./p2p/peer-address.js')
  for (const peer of peers) {
    const problem = peerAddressProblem(peer)
    if (problem === undefined) continue
    const shown = JSON.stringify(peer.length > 120 ? `${peer.slice(0, 120)}…` : peer)
    throw new MeshsigError(
      'INVALID_INPUT',
      `invalid ${settingName('peers', layers)}: ${shown} is ${problem}; give ${PEER_FORMS}`,
    )
  }
  return peers
}

/** Resolve the configuration; throws `INVALID_INPUT` naming the bad setting as the user wrote it. */
export async function loadConfig(sources: ConfigSources): Promise<NodeConfig> {
  const layers: Layers = {
    home: sources.home,
    file: readFileConfig(sources.home, sources.readFile ?? readFromDisk),
    env: fromEnv(sources.env ?? {}),
    flags: definedOnly(sources.flags ?? {}),
  }
  const parsed = schema.safeParse({ ...layers.file, ...layers.env, ...layers.flags })
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const key = issue?.path[0]
    const name = typeof key === 'string' ? settingName(key, layers) : 'setting'
    throw new MeshsigError('INVALID_INPUT', `invalid ${name}: ${issue?.message ?? ''}`)
  }
  const c = parsed.data
  return {
    home: sources.home,
    port: c.port,
    host: c.host,
    p2pPort: checkPorts(c.port, c.p2pPort, layers),
    db: c.db ?? join(sources.home, 'meshsig.db'),
    name: c.name ?? (sources.hostname ?? hostname)(),
    peers: await checkPeers(c.peers, layers),
    maxSkewMs: c.maxSkewMs,
    rateLimit: c.rateLimit,
    trustProxy: c.trustProxy,
    allowedHosts: c.allowedHosts,
    trustLoopback: c.trustLoopback,
  }
}

/** libp2p listen addresses for a configuration: TCP on p2pPort, WebSockets on the next. */
export function listenAddresses(config: NodeConfig): string[] {
  const host = config.host === 'localhost' ? '127.0.0.1' : config.host
  const family = host.includes(':') ? 'ip6' : 'ip4'
  const ws = config.p2pPort === 0 ? 0 : config.p2pPort + 1
  return [`/${family}/${host}/tcp/${config.p2pPort}`, `/${family}/${host}/tcp/${ws}/ws`]
}
