/**
 * Node configuration: defaults ← `$MESHSIG_HOME/config.json` ← environment
 * ← command-line flags, validated once with clear errors. Nothing is needed:
 * with no file, no variables and no flags, a node runs on its defaults.
 */
import { existsSync, readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { z } from 'zod'
import { MeshsigError } from './core/index.js'

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
}

const port = z.coerce.number().int().min(0).max(65535)

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
})

/** Sources of configuration values, weakest first after the file. */
export interface ConfigSources {
  readonly home: string
  readonly env?: NodeJS.ProcessEnv
  readonly flags?: Record<string, unknown>
}

const ENV_KEYS: Record<string, string> = {
  MESHSIG_PORT: 'port',
  MESHSIG_HOST: 'host',
  MESHSIG_P2P_PORT: 'p2pPort',
  MESHSIG_DB: 'db',
  MESHSIG_NAME: 'name',
  MESHSIG_MAX_SKEW_MS: 'maxSkewMs',
  MESHSIG_RATE_LIMIT: 'rateLimit',
}

function readFileConfig(home: string): Record<string, unknown> {
  const path = join(home, 'config.json')
  if (!existsSync(path)) return {}
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
  } catch (err) {
    throw new MeshsigError('INVALID_INPUT', `${path} is not valid JSON: ${(err as Error).message}`)
  }
}

function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, key] of Object.entries(ENV_KEYS)) if (env[name]) out[key] = env[name]
  for (const [name, key] of [
    ['MESHSIG_PEERS', 'peers'],
    ['MESHSIG_ALLOWED_HOSTS', 'allowedHosts'],
    ['MESHSIG_TRUST_PROXY', 'trustProxy'],
  ] as const) {
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

/** Resolve the configuration; throws `INVALID_INPUT` naming the bad setting. */
export function loadConfig(sources: ConfigSources): NodeConfig {
  const merged = { ...readFileConfig(sources.home), ...fromEnv(sources.env ?? {}), ...definedOnly(sources.flags ?? {}) }
  const parsed = schema.safeParse(merged)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new MeshsigError('INVALID_INPUT', `invalid setting ${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`)
  }
  const c = parsed.data
  return {
    home: sources.home,
    port: c.port,
    host: c.host,
    p2pPort: c.p2pPort ?? (c.port === 0 ? 0 : c.port + 1),
    db: c.db ?? join(sources.home, 'meshsig.db'),
    name: c.name ?? hostname(),
    peers: c.peers,
    maxSkewMs: c.maxSkewMs,
    rateLimit: c.rateLimit,
    trustProxy: c.trustProxy,
    allowedHosts: c.allowedHosts,
  }
}

/** libp2p listen addresses for a configuration: TCP on p2pPort, WebSockets on the next. */
export function listenAddresses(config: NodeConfig): string[] {
  const host = config.host === 'localhost' ? '127.0.0.1' : config.host
  const family = host.includes(':') ? 'ip6' : 'ip4'
  const ws = config.p2pPort === 0 ? 0 : config.p2pPort + 1
  return [`/${family}/${host}/tcp/${config.p2pPort}`, `/${family}/${host}/tcp/${ws}/ws`]
}
