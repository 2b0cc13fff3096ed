/**
 * The CLI's way to a running node: the SDK's HTTP client on `--server` /
 * `MESHSIG_SERVER`. The API token (a node bound off loopback needs it for
 * state changes) is `MESHSIG_TOKEN` when set, sent to whichever server was
 * named; otherwise the token in the meshsig home, sent only when the server is
 * on this machine (a loopback host) and has proved it holds that token: the
 * local node's token never goes to another host, nor to another local user's
 * listener. A node that does not answer is `UNREACHABLE` (exit 3).
 */
import { isIP } from 'node:net'
import { MeshsigClient } from '../api/client.js'
import { MeshsigError } from '../node/core/errors.js'
import { readApiToken } from '../node/identity/index.js'
import type { CliContext } from './context.js'

/** Environment variable with an explicit API token (for a node on another host). */
export const TOKEN_ENV = 'MESHSIG_TOKEN'

function tokenOf(home: string): string | undefined {
  try {
    return readApiToken(home)
  } catch {
    return undefined
  }
}

function isLoopbackIp(host: string): boolean {
  if (isIP(host) === 4) return host.split('.')[0] === '127'
  if (isIP(host) !== 6) return false
  const h = host.toLowerCase()
  if (h === '::1') return true
  // IPv4-mapped 127.0.0.0/8, as the URL parser writes it: ::ffff:7fxx:xxxx
  return /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(h)
}

/** True when `server`'s host is loopback (127.0.0.0/8, ::1, localhost): only then is the home's token sent. */
export function isLoopbackServer(server: string): boolean {
  let host: string
  try {
    host = new URL(server).hostname.toLowerCase()
  } catch {
    return false
  }
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1)
  if (host.endsWith('.')) host = host.slice(0, -1)
  return host === 'localhost' || isLoopbackIp(host)
}

/** The token to send to `ctx.server`: `MESHSIG_TOKEN`, else the home's token for a loopback server only. */
export function tokenFor(ctx: CliContext): string | undefined {
  return explicitToken(ctx) ?? (isLoopbackServer(ctx.server) ? tokenOf(ctx.home) : undefined)
}

/** `MESHSIG_TOKEN`, when set. */
function explicitToken(ctx: CliContext): string | undefined {
  const explicit = ctx.io.env[TOKEN_ENV]
  return explicit !== undefined && explicit !== '' ? explicit : undefined
}

function clientWith(ctx: CliContext, token: string | undefined, proveToken = false): MeshsigClient {
  checkServerUrl(ctx.server)
  const given = token !== undefined ? { token, proveToken } : {}
  return new MeshsigClient({ server: ctx.server, timeoutMs: 15_000, ...given })
}

/** A server that is no http(s) URL is bad input (exit 2), not an unreachable node (exit 3). */
function checkServerUrl(server: string): void {
  let url: URL | undefined
  try {
    url = new URL(server)
  } catch {
    url = undefined
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new MeshsigError(
      'INVALID_INPUT',
      `--server (or MESHSIG_SERVER) must be an http(s) URL such as http://127.0.0.1:4888, not '${server}'`,
      { field: 'server' },
    )
  }
}

/**
 * A client of the node the command talks to. The home's token goes only to a
 * server that first proves it holds it (api/token-proof.ts): any local user
 * can listen on a loopback port, the node's own while it is down.
 */
export function apiClient(ctx: CliContext): MeshsigClient {
  // an explicit MESHSIG_TOKEN goes to the server it was set for; the home's token only after the proof
  return clientWith(ctx, tokenFor(ctx), explicitToken(ctx) === undefined)
}

/**
 * A client for a request that carries its own proof (an envelope signed
 * here): on loopback the node needs no bearer for it (docs/api.md), and the
 * home's token may be another node's, which the node would refuse; so only
 * an explicit `MESHSIG_TOKEN` is sent (a node off loopback needs one).
 */
export function proofClient(ctx: CliContext): MeshsigClient {
  return clientWith(ctx, explicitToken(ctx))
}
