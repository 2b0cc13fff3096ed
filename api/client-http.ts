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
import { ERROR_TABLE, isMeshsigError, MeshsigError, type ErrorCode } from '../node/core/errors.js'
import { oneLine } from '../node/core/untrusted-text.js'

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
  /** Per-request timeout in ms (default 30 000). */
  readonly timeoutMs?: number
  /** fetch implementation (default the global one). */
  readonly fetch?: typeof fetch
}

/** A node's error answer as a `MeshsigError` with the node's code (`PEER_ERROR` when it names none we know). */
export function errorFrom(status: number, body: unknown, url: string): MeshsigError {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
  const code = typeof b.code === 'string' && b.code in ERROR_TABLE ? (b.code as ErrorCode) : 'PEER_ERROR'
  // the server's own words: on one line, nothing in them reads as a line of the client's (decision 0055)
  const message = typeof b.error === 'string' ? oneLine(b.error) : `HTTP ${status} from ${url}`
  const details: Record<string, unknown> = { status, ...((b.details as Record<string, unknown>) ?? {}) }
  if (typeof b.did === 'string') details.did = b.did
  if (typeof b.retryAfter === 'number') details.retryAfter = b.retryAfter
  return new MeshsigError(code, message, details)
}

/**
 * Causes of a failed request that mean no connection was made, so nothing at
 * the server could have answered: refused (nothing listens on the port), no
 * such host, no route, or a port fetch never connects to ("bad port").
 */
const NO_CONNECTION_CAUSES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'bad port'])

/**
 * What a request that got no answer became: `TIMEOUT` when the client's own
 * timeout fired (the connection may well have been taken: a node that is
 * slow, or kept busy, is not "no node"), else `UNREACHABLE`, with
 * `noConnection: true` when nothing could have answered.
 */
function transportError(err: unknown, server: string, timeoutMs: number): MeshsigError {
  if ((err as { name?: unknown }).name === 'TimeoutError') {
    const why = `the meshsig node at ${server} did not answer within ${timeoutMs} ms`
    return new MeshsigError('TIMEOUT', why, { server, timeoutMs })
  }
  const cause = (err as { cause?: { code?: string; message?: string } }).cause
  const why = cause?.code ?? cause?.message ?? (err as Error).message
  const message = `no meshsig node answers at ${server} (${why}); is it running? (meshsig start)`
  const noConnection = NO_CONNECTION_CAUSES.has(cause?.code ?? cause?.message ?? '')
  return new MeshsigError('UNREACHABLE', message, { server, ...(noConnection ? { noConnection } : {}) })
}

/**
 * True when `err` is a request to a node that could not even connect
 * (`UNREACHABLE` with `noConnection`): nothing listens there, so no node can
 * have an answer. A timeout, a reset or any answer is not this.
 */
export function noConnection(err: unknown): boolean {
  return isMeshsigError(err) && err.code === 'UNREACHABLE' && err.details?.noConnection === true
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

/**
 * The body of `res` as text, read a chunk at a time and given up past
 * `maxBytes` (`PEER_ERROR`): a server that is not the node can answer
 * without end (a review's buffered 2.6 GB in the 5 s of a verify).
 */
async function textWithin(res: Response, maxBytes: number, url: string): Promise<string> {
  if (maxBytes === Infinity || res.body === null) return res.text()
  if (Number(res.headers.get('content-length') ?? 0) > maxBytes) {
    await res.body.cancel().catch(() => undefined) // said too long up front: read none of it
    throw new MeshsigError('PEER_ERROR', `${url} announced more than ${maxBytes} bytes`, { maxBytes })
  }
  const chunks: Uint8Array[] = []
  let bytes = 0
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length
    if (bytes > maxBytes) {
      await res.body.cancel().catch(() => undefined)
      throw new MeshsigError('PEER_ERROR', `${url} answered more than ${maxBytes} bytes`, { maxBytes })
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

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

  constructor(opts: MeshsigClientOptions = {}) {
    const server = (opts.server ?? DEFAULT_MESHSIG_SERVER).replace(/\/+$/, '')
    this.server = pinnedServer(server)
    this.token = opts.token
    this.timeoutMs = opts.timeoutMs ?? 30_000
    this.fetchImpl = opts.fetch ?? fetch
    this.proveToken = opts.proveToken === true && this.token !== undefined
  }

  /**
   * `method path` with a JSON body; the parsed JSON answer (the text when
   * `raw`), or the node's error. An answer past `maxBytes` is `PEER_ERROR`
   * (answers of a known small shape, from a server that may not be the node).
   */
  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown, raw = false, maxBytes = Infinity): Promise<T> {
    const url = this.server + path
    const headers: Record<string, string> = { accept: 'application/json' }
    if (body !== undefined) headers['content-type'] = 'application/json'
    const token = await this.bearer()
    if (token !== undefined) headers.authorization = `Bearer ${token}`
    let res: Response
    let text: string
    try {
      res = await this.fetchImpl(url, {
        method,
        headers,
        signal: AbortSignal.timeout(this.timeoutMs),
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      })
      // the timeout covers the body too: a node that sends its headers and then stalls has not answered
      text = await textWithin(res, maxBytes, url)
    } catch (err) {
      if (isMeshsigError(err)) throw err
      this.forgetProof()
      throw transportError(err, this.server, this.timeoutMs)
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
    try {
      res = await this.fetchImpl(`${this.server}/health`, { headers, signal: AbortSignal.timeout(this.timeoutMs) })
      await textWithin(res, SMALL_ANSWER_BYTES, this.server)
    } catch (err) {
      this.proven = undefined // no answer now: ask again next time
      if (isMeshsigError(err)) throw this.unproven(credentialId !== undefined) // an answer past its bound
      throw transportError(err, this.server, this.timeoutMs)
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
