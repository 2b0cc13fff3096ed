/**
 * The HTTP side of the SDK (client.ts): one request to a meshsig node, its
 * bearer token sent only where it may go (api/token-proof.ts), and the
 * node's error body turned back into a `MeshsigError` with the node's code;
 * `UNREACHABLE` when no node answers (`details.noConnection` when no
 * connection could even be made), `TIMEOUT` when one took the connection but
 * did not answer in time. And the WebSocket of `subscribe`, which carries the
 * same bearer when there is one. A client that proves its token (`proveToken`)
 * and meets a server that cannot prove it holds it stops there
 * (`NODE_UNPROVEN`, decision 0055): an unproven server is not the node.
 */
import { constants } from 'node:buffer'
import { WebSocket as WsWebSocket } from 'ws'
import {
  CREDENTIAL_ID_HEADER,
  endpointOf,
  newChallenge,
  proofKeyOf,
  proofMatches,
  TOKEN_CHALLENGE_HEADER,
  TOKEN_PROOF_HEADER,
} from './token-proof.js'
import { errorFrom, textWithin, transportError } from './client-errors.js'
import { READ_LANE_HEADER, readLaneOf } from './read-lane.js'
import { checkNoUserinfo } from './server-url.js'
import { isMeshsigError, MeshsigError } from '../node/core/errors.js'

export { errorFrom, noConnection } from './client-errors.js'

/** Default node URL (env `MESHSIG_SERVER` is read by the CLI, not here). */
export const DEFAULT_MESHSIG_SERVER = 'http://localhost:4888'

/** How to reach a node. */
export interface MeshsigClientOptions {
  /** Base URL of the node's API (default http://localhost:4888). */
  readonly server?: string
  /**
   * Bearer sent with every request (docs/protocol.md §8): the node's operator
   * token (`$MESHSIG_HOME/api-token`), or an agent credential (`msag_…`) to act
   * as that one agent. Without one, only what carries its own proof works.
   */
  readonly token?: string
  /**
   * Send `token` only to a server that first proves it holds it
   * (api/token-proof.ts); one that cannot is spoken to without it. For a
   * token read from a meshsig home, and for an agent credential kept in a
   * file (the node proves it by the credential's hash): any local user can
   * listen on a loopback port. A server that answers without the proof is
   * not the node: every request then fails with `NODE_UNPROVEN` (decision
   * 0055), nothing is sent to it and none of its answers is used. Needs the
   * server reached to be the node itself (no reverse proxy between).
   */
  readonly proveToken?: boolean
  /**
   * Send `token` only with actions (`POST`); a read (`GET`, open to anyone,
   * docs/api.md) carries the token's read lane instead (api/read-lane.ts), so
   * reads count against a rate-limit bucket of their own, not the one the
   * operator's actions need. The MCP server's clients (decision 0063). The
   * proof (`proveToken`) is asked first all the same.
   */
  readonly readLane?: boolean
  /** Per-request timeout in ms (default 30 000). */
  readonly timeoutMs?: number
  /** fetch implementation (default the global one). */
  readonly fetch?: typeof fetch
}

/** Most bytes of an answer of a small fixed shape (`/health`, an agent, a key view with its log). */
export const SMALL_ANSWER_BYTES = 4 * 1024 * 1024

/**
 * Most bytes of a list answer by default: the longest string this runtime can
 * hold (about 512 MiB on 64-bit Node). A longer answer could not be parsed
 * anyway, so no list the node can send is lost to the bound, and a server
 * that is not the node cannot make the client buffer without end.
 */
export const DEFAULT_LIST_BYTES = constants.MAX_STRING_LENGTH

/** How long a proof that the server holds the token is used before it is asked for again (ms). */
const TOKEN_PROOF_TTL_MS = 2_000

/**
 * `server` with a `localhost` host as 127.0.0.1, the address the node binds
 * (node/config.ts) and a proof of the token names (api/token-proof.ts).
 * Every client of the SDK, the CLI and the MCP server speaks to it so: a
 * stock /etc/hosts resolves `localhost` to ::1 first, where the node does not
 * listen and any local user can (decision 0055). So are `localhost.` and
 * any `*.localhost`.
 */
export function pinnedServer(server: string): string {
  try {
    const url = new URL(server)
    // `localhost.` and `*.localhost` too: nss-myhostname resolves them to ::1 as well (review 77)
    if (!/(^|\.)localhost\.?$/.test(url.hostname.toLowerCase())) return server
    url.hostname = '127.0.0.1'
    return url.toString().replace(/\/+$/, '')
  } catch {
    return server
  }
}
/** What a bearer token may hold: the visible ASCII an HTTP header value carries (no space, line break or NUL). */
const HEADER_TOKEN = /^[\x21-\x7e]+$/

/**
 * `token` when an `Authorization` header can carry it; else `INVALID_INPUT`
 * naming `source`, never the value (attack review 121: fetch's own error
 * quotes the whole header, and it reached a model's context and stderr).
 */
export function checkedToken(token: string | undefined, source: string): string | undefined {
  if (token === undefined || HEADER_TOKEN.test(token)) return token
  const why = `${source} holds a space, a line break or another character no HTTP header can carry (pasted across lines?)`
  throw new MeshsigError('INVALID_INPUT', `${why}: nothing was sent`, { field: source })
}

/** Requests to one node, with its token proven first when asked to (`proveToken`). */
export class ClientHttp {
  /** Base URL without a trailing slash. */
  readonly server: string
  private readonly token: string | undefined
  private readonly timeoutMs: number
  private readonly fetchImpl: typeof fetch
  /** Settles to the token once the server proved it holds it (or to undefined when it could not). */
  private proven: Promise<string | undefined> | undefined
  /** When `proven` was asked for (ms); a proof is used for `TOKEN_PROOF_TTL_MS`, then asked for again. */
  private provenAt = 0
  private readonly proveToken: boolean
  private readonly readLane: boolean

  constructor(opts: MeshsigClientOptions = {}) {
    const server = (opts.server ?? DEFAULT_MESHSIG_SERVER).replace(/\/+$/, '')
    if (URL.canParse(server)) checkNoUserinfo(new URL(server))
    this.server = pinnedServer(server)
    this.token = checkedToken(opts.token, 'the token')
    this.timeoutMs = opts.timeoutMs ?? 30_000
    this.fetchImpl = opts.fetch ?? fetch
    this.proveToken = opts.proveToken === true && this.token !== undefined
    this.readLane = opts.readLane === true
  }

  /**
   * `method path` with a JSON body; the parsed JSON answer (the text when
   * `raw`), or the node's error. An answer past `maxBytes` is `PEER_ERROR`
   * (answers of a known small shape, from a server that may not be the node);
   * so is an error answer past `SMALL_ANSWER_BYTES`.
   */
  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown, raw = false, maxBytes = Infinity): Promise<T> {
    const url = this.server + path
    const headers: Record<string, string> = { accept: 'application/json' }
    if (body !== undefined) headers['content-type'] = 'application/json'
    const token = await this.bearer()
    if (token !== undefined && this.readLane && method === 'GET') headers[READ_LANE_HEADER] = readLaneOf(token)
    else if (token !== undefined) headers.authorization = `Bearer ${token}`
    let res: Response
    let text: string
    const deadline = requestDeadline(this.timeoutMs)
    try {
      res = await this.fetchImpl(url, {
        method,
        headers,
        signal: deadline.signal,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      })
      // the timeout covers the body too: a node that sends its headers and then stalls has not answered;
      // an error answer is of a small shape whatever the request (review 92 F5)
      text = await textWithin(res, res.ok ? maxBytes : Math.min(maxBytes, SMALL_ANSWER_BYTES), url)
    } catch (err) {
      if (isMeshsigError(err)) throw err
      this.forgetProof()
      throw transportError(err, this.server, this.timeoutMs)
    } finally {
      deadline.done()
    }
    let parsed: unknown = text
    if (!raw) {
      try {
        parsed = JSON.parse(text)
      } catch {
        if (res.ok) throw new MeshsigError('PEER_ERROR', `${url} did not answer JSON`)
      }
    }
    if (!res.ok) throw errorFrom(res.status, parsed, url)
    return parsed as T
  }

  /**
   * True once the server proved it holds the token (`proveToken`); false when
   * this client proves nothing (no token, or `proveToken` not set). Rejects
   * with `NODE_UNPROVEN` when a server answered without the proof, and with
   * the transport's error when none answered.
   */
  async provenNode(): Promise<boolean> {
    if (!this.proveToken) return false
    await this.bearer()
    return true
  }

  /**
   * The token, once the server proved it holds it (api/token-proof.ts);
   * `NODE_UNPROVEN` when a server answered without the proof (an unproven
   * server is not the node: nothing goes to it, decision 0055). A proof holds
   * for a short while only: the node may restart, and another local user may
   * take its port meanwhile.
   */
  bearer(): Promise<string | undefined> {
    if (!this.proveToken) return Promise.resolve(this.token)
    if (this.proven === undefined || Date.now() - this.provenAt > TOKEN_PROOF_TTL_MS) {
      this.provenAt = Date.now()
      this.proven = this.prove()
    }
    return this.proven
  }

  private async prove(): Promise<string | undefined> {
    const token = this.token
    if (token === undefined) return undefined
    const challenge = newChallenge()
    const { proofKey, credentialId } = proofKeyOf(token)
    const headers: Record<string, string> = { accept: 'application/json', [TOKEN_CHALLENGE_HEADER]: challenge }
    if (credentialId !== undefined) headers[CREDENTIAL_ID_HEADER] = credentialId
    let res: Response
    const deadline = requestDeadline(this.timeoutMs)
    try {
      res = await this.fetchImpl(`${this.server}/health`, { headers, signal: deadline.signal })
      await textWithin(res, SMALL_ANSWER_BYTES, this.server)
    } catch (err) {
      this.proven = undefined // no answer now: ask again next time
      if (isMeshsigError(err)) throw this.unproven(credentialId !== undefined) // an answer past its bound
      throw transportError(err, this.server, this.timeoutMs)
    } finally {
      deadline.done()
    }
    const url = new URL(this.server)
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80))
    const proof = res.headers.get(TOKEN_PROOF_HEADER)
    if (proofMatches(proof, proofKey, endpointOf(url.hostname, port), challenge)) return token
    throw this.unproven(credentialId !== undefined)
  }

  /** `NODE_UNPROVEN` for this server: it answered, without the proof of the token (or credential) this client holds. */
  private unproven(credential: boolean): MeshsigError {
    const what = credential ? 'the agent credential' : 'the API token'
    const message =
      `the server at ${this.server} did not prove it holds ${what} this client holds, so it is not taken for the ` +
      'node: nothing was sent to it and none of its answers is used (another local user may listen on the ' +
      "node's port, or the node runs with another token: for the CLI and MCP server, the node's own " +
      '$MESHSIG_HOME/api-token or MESHSIG_TOKEN)'
    return new MeshsigError('NODE_UNPROVEN', message, { server: this.server })
  }

  /** Forget the proof (a request that could not reach the server: the next one proves again). */
  private forgetProof(): void {
    if (this.proveToken) this.proven = undefined
  }
}

/**
 * The deadline of one request: its signal aborts with a `TimeoutError` after
 * `ms`. Unlike `AbortSignal.timeout`, its timer keeps the process alive until
 * `done()`: a fetch whose connection the server closed before any answer
 * never settles (Node 20's undici), and with nothing else pending a CLI
 * process then ended with exit 13 and no word (review 115 F2); now it ends
 * with the request's `TIMEOUT`.
 */
function requestDeadline(ms: number): { readonly signal: AbortSignal; done(): void } {
  const abort = new AbortController()
  const timer = setTimeout(() => abort.abort(new DOMException(`no answer in ${ms} ms`, 'TimeoutError')), ms)
  return { signal: abort.signal, done: () => clearTimeout(timer) }
}

/** `?a=1&b=2` of the defined `params` ('' when none is). */
export function queryString(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v))
  const s = q.toString()
  return s ? `?${s}` : ''
}

/** What the SDK uses of a WebSocket (the runtime's or the `ws` package's). */
export interface WebSocketLike {
  onmessage: ((e: { data: unknown }) => void) | null
  onerror: ((e: unknown) => void) | null
  close(): void
}

/** A WebSocket constructor of the runtime. */
export type WebSocketClass = new (url: string) => WebSocketLike

/**
 * A WebSocket to `url`: the `ws` package's, sending `bearer` as
 * `Authorization`, when there is one (a runtime's WebSocket cannot); else
 * the `runtime`'s, or the `ws` package's where there is none.
 */
export function openStream(
  url: string,
  bearer: string | undefined,
  runtime: WebSocketClass | undefined,
): WebSocketLike {
  if (bearer === undefined) return new (runtime ?? (WsWebSocket as unknown as WebSocketClass))(url)
  const headers = { authorization: `Bearer ${bearer}` }
  return new WsWebSocket(url, { headers }) as unknown as WebSocketLike
}
