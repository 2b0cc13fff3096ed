/**
 * How the API is exposed: bind address, bearer token, rate limit, trusted
 * proxies and the Host names it answers to (docs/protocol.md §8). Resolved once from the
 * node's configuration; every guard reads the resolved form.
 */
import { availableParallelism, hostname, networkInterfaces } from 'node:os'
import { isIP } from 'node:net'
import { MeshsigError } from '../node/core/errors.js'
import { LOOPBACK_NAMES } from '../node/core/host-name.js'
import type { NodeConfig } from '../node/config.js'
import type { BodyBudgetLimits } from './body-budget.js'

/** Largest request body accepted (bytes): a maximal message body plus JSON escaping room. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024
/** Rate-limit window (ms): the limit counts requests per minute. */
export const DEFAULT_RATE_WINDOW_MS = 60_000

/** What the caller sets (everything but `host` has a default). */
export interface ApiOptions {
  /** Address the HTTP server binds (127.0.0.1 by default). */
  readonly host: string
  /** Bearer token required for state-changing requests when not bound to loopback. */
  readonly token?: string
  /** Requests per window per client address; 0 turns the limit off. Default 60. */
  readonly rateLimit?: number
  /** Rate-limit window in ms (default one minute). */
  readonly rateWindowMs?: number
  /** Proxy addresses (or CIDRs) whose `X-Forwarded-For` is believed. Default none. */
  readonly trustProxy?: readonly string[]
  /** Extra Host names (besides loopback and this machine's own) the API answers to. */
  readonly allowedHosts?: readonly string[]
  /** Largest request body in bytes (default 1 MiB). */
  readonly bodyLimit?: number
  /** Worker threads that verify plain signatures (default: one per spare core). */
  readonly verifyWorkers?: number
  /** Answer the hot endpoints outside Express (default true; tests turn it off to cover the Express routes). */
  readonly fastPath?: boolean
  /** Bounds on request bodies in flight (default `DEFAULT_BODY_BUDGET`, api/body-budget.ts; tests tighten them). */
  readonly bodyBudget?: BodyBudgetLimits
  /** Every loopback caller acts as the operator (single-user machines only; default false). */
  readonly trustLoopback?: boolean
}

/** The options with every default applied and the Host allow-list computed. */
export interface ResolvedApiOptions {
  readonly host: string
  readonly token: string | undefined
  /**
   * True when state-changing requests need the bearer token: bound off
   * loopback, or behind a trusted proxy (every proxied client arrives from
   * the proxy's address, so loopback proves nothing).
   */
  readonly requireToken: boolean
  readonly rateLimit: number
  readonly rateWindowMs: number
  readonly trustProxy: readonly string[]
  /** Lower-case host names (no port, IPv6 without brackets) accepted in `Host`. */
  readonly allowedHosts: ReadonlySet<string>
  readonly bodyLimit: number
  readonly verifyWorkers: number
  /** Loopback callers act as the operator without the token (docs/protocol.md §8). */
  readonly trustLoopback: boolean
}

/** True for loopback addresses and names: 127.0.0.0/8, ::1, ::ffff:127.x, localhost. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false
  const a = address.toLowerCase().replace(/^\[|\]$/g, '')
  if (a === 'localhost' || a === '::1') return true
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a
  return isIP(v4) === 4 && v4.startsWith('127.')
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]'
}

function ownAddresses(): string[] {
  const out: string[] = []
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) out.push(info.address.toLowerCase().replace(/%.*$/, ''))
  }
  return out
}

function hostAllowList(host: string, extra: readonly string[]): Set<string> {
  const names = new Set<string>(LOOPBACK_NAMES)
  const bound = host.toLowerCase().replace(/^\[|\]$/g, '')
  if (!isLoopback(bound)) {
    names.add(hostname().toLowerCase())
    if (isWildcard(bound)) for (const a of ownAddresses()) names.add(a)
    else names.add(bound)
  } else {
    names.add(bound)
  }
  for (const name of extra) names.add(name.toLowerCase().replace(/^\[|\]$/g, ''))
  return names
}

/**
 * Apply defaults and check the combination. Throws `INVALID_INPUT` when the
 * API would bind off loopback without a token to protect state changes.
 * Behind a trusted proxy the token is required even on loopback (without
 * one, state changes are refused).
 */
export function resolveApiOptions(opts: ApiOptions): ResolvedApiOptions {
  const offLoopback = !isLoopback(opts.host)
  const requireToken = offLoopback || (opts.trustProxy ?? []).length > 0
  if (offLoopback && (opts.token === undefined || opts.token.length < 16)) {
    throw new MeshsigError(
      'INVALID_INPUT',
      `binding the API to ${opts.host} needs an API token (run meshsig init); state changes require it off loopback`,
    )
  }
  return {
    host: opts.host,
    token: opts.token,
    requireToken,
    rateLimit: opts.rateLimit ?? 60,
    rateWindowMs: opts.rateWindowMs ?? DEFAULT_RATE_WINDOW_MS,
    trustProxy: opts.trustProxy ?? [],
    allowedHosts: hostAllowList(opts.host, opts.allowedHosts ?? []),
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    verifyWorkers: opts.verifyWorkers ?? Math.max(0, Math.min(2, availableParallelism() - 1)),
    trustLoopback: opts.trustLoopback ?? false,
  }
}

/** API options from a node configuration plus the token `meshsig start` read. */
export function apiOptionsFromConfig(config: NodeConfig, extra: Partial<ApiOptions> = {}): ApiOptions {
  return {
    host: config.host,
    rateLimit: config.rateLimit,
    trustProxy: config.trustProxy,
    allowedHosts: config.allowedHosts,
    trustLoopback: config.trustLoopback,
    ...extra,
  }
}
