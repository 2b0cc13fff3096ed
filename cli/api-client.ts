/**
 * The CLI's way to a running node: the SDK's HTTP client on `--server` /
 * `MESHSIG_SERVER` (`localhost` spoken to as 127.0.0.1). The API token (a
 * node bound off loopback needs it for state changes) is `MESHSIG_TOKEN` when
 * set; otherwise the token in the meshsig home, only when the server is on
 * this machine (a loopback host). A token for a server on this machine is sent
 * only once the server proved it holds it, and a server that answers without
 * that proof is not the node: the command stops with `NODE_UNPROVEN` (exit 3)
 * before it sends or believes anything (decisions 0034, 0055). `MESHSIG_TOKEN`
 * for a server on another host is sent as given (a DNS name or a reverse proxy
 * cannot make the proof). A node that does not answer is `UNREACHABLE`.
 */
import { isIP } from 'node:net'
import { checkedToken } from '../api/client-http.js'
import { checkNoUserinfo, withoutUserinfo } from '../api/server-url.js'
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
  return explicit !== undefined && explicit !== '' ? checkedToken(explicit, TOKEN_ENV) : undefined
}

/** How long a command's requests get, unless it says otherwise (ms). */
const CLIENT_TIMEOUT_MS = 15_000

/**
 * True when the CLI's clients make the server at `ctx.server` prove it is the
 * node before anything is sent or believed: a token is at hand and the server
 * is on this machine. Otherwise its answers are its own word.
 */
export function provesNode(ctx: CliContext): boolean {
  return tokenFor(ctx) !== undefined && isLoopbackServer(ctx.server)
}

function clientWith(
  ctx: CliContext,
  token: string | undefined,
  timeoutMs = CLIENT_TIMEOUT_MS,
  maxListBytes?: number,
): MeshsigClient {
  checkServerUrl(ctx.server)
  const given = token !== undefined ? { token, proveToken: isLoopbackServer(ctx.server) } : {}
  const bound = maxListBytes !== undefined ? { maxListBytes } : {}
  return new MeshsigClient({ server: ctx.server, timeoutMs, readLane: ctx.readLane === true, ...given, ...bound })
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
      `--server (or MESHSIG_SERVER) must be an http(s) URL such as http://127.0.0.1:4888, not '${withoutUserinfo(server)}'`,
      { field: 'server' },
    )
  }
  checkNoUserinfo(url)
}

/**
 * A client of the node the command talks to, with the token `tokenFor`
 * gives. On this machine the token goes only to a server that first proves it
 * holds it (api/token-proof.ts), and one that cannot is `NODE_UNPROVEN`: any
 * local user can listen on a loopback port, the node's own while it is down.
 * `timeoutMs`: per request (default 15 s); `maxListBytes`: the most bytes of
 * a list answer (default the SDK's, `DEFAULT_LIST_BYTES`).
 */
export function apiClient(ctx: CliContext, timeoutMs?: number, maxListBytes?: number): MeshsigClient {
  return clientWith(ctx, tokenFor(ctx), timeoutMs, maxListBytes)
}

/**
 * A client for a request that carries its own proof (an envelope signed
 * here), after the server proved it is the node whenever a token is at hand
 * (`NODE_UNPROVEN` otherwise: a signed revocation or rotation is not handed to
 * whoever listens on the node's port, nor its answer reported as done). The
 * node needs no bearer for such a request on loopback (docs/api.md), so only
 * an explicit `MESHSIG_TOKEN` is sent (a node off loopback needs one).
 */
export async function proofClient(ctx: CliContext): Promise<MeshsigClient> {
  const explicit = explicitToken(ctx)
  if (explicit === undefined && provesNode(ctx)) await apiClient(ctx).proveNode()
  return clientWith(ctx, explicit)
}
