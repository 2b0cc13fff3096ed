/**
 * What the SDK's HTTP side (client-http.ts) makes of a request that failed:
 * a node's error answer back as a `MeshsigError` with the node's code, kept
 * small whatever the answer held (a server that is not the node may answer
 * anything, decision 0055), and a request that got no answer as `TIMEOUT` or
 * `UNREACHABLE`. And the bounded read every answer body goes through.
 */
import { ERROR_TABLE, isMeshsigError, MeshsigError, type ErrorCode } from '../node/core/errors.js'
import { oneLine } from '../node/core/untrusted-text.js'

/** Most characters of a server's error message kept; a longer one is cut (review 92 F5). */
export const MAX_ERROR_MESSAGE = 512

/** Most characters of a server's `details` as JSON; larger ones, and any that is no plain object, are left out. */
export const MAX_ERROR_DETAILS = 2048

/** Most characters of the `did` an error answer names (a DID is far shorter). */
const MAX_ERROR_DID = 256

/** `text` cut to `max` characters (a surrogate pair is not split), saying how long it was. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text
  const end = /[\uD800-\uDBFF]/.test(text.charAt(max - 1)) ? max - 1 : max
  return `${text.slice(0, end)}… (${text.length} characters in all)`
}

/**
 * The server's `details` when it is a plain object of at most
 * `MAX_ERROR_DETAILS` characters as JSON, copied; undefined for anything else
 * (spread, a string made one key per character: a 3.9 MB error answer became
 * a 53.5 MB tool result, review 92 F5).
 */
function boundedDetails(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return undefined
  let json: string
  try {
    json = JSON.stringify(value)
  } catch {
    return undefined
  }
  return json.length <= MAX_ERROR_DETAILS ? (JSON.parse(json) as Record<string, unknown>) : undefined
}

/**
 * A node's error answer as a `MeshsigError` with the node's code
 * (`PEER_ERROR` when it names none we know). The server's own words are
 * kept on one line and cut to `MAX_ERROR_MESSAGE` characters; its `details`
 * only when small and a plain object; `status` is the one this client saw.
 */
export function errorFrom(status: number, body: unknown, url: string): MeshsigError {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
  const code = typeof b.code === 'string' && b.code in ERROR_TABLE ? (b.code as ErrorCode) : 'PEER_ERROR'
  // the server's own words: on one line, nothing in them reads as a line of the client's (decision 0055)
  const message = typeof b.error === 'string' ? oneLine(cut(b.error, MAX_ERROR_MESSAGE)) : `HTTP ${status} from ${url}`
  const details: Record<string, unknown> = { ...boundedDetails(b.details), status }
  if (typeof b.did === 'string' && b.did.length <= MAX_ERROR_DID) details.did = b.did
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
export function transportError(err: unknown, server: string, timeoutMs: number): MeshsigError {
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

/**
 * The body of `res` as text, read a chunk at a time and given up past
 * `maxBytes` (`PEER_ERROR`): a server that is not the node can answer
 * without end (a review's buffered 2.6 GB in the 5 s of a verify).
 */
export async function textWithin(res: Response, maxBytes: number, url: string): Promise<string> {
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
