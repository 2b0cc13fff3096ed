/**
 * Helpers of the signing proxy's forwarding: reading a request body up to a
 * limit, the headers passed on each way (hop-by-hop fields dropped, the
 * caller's own signature headers replaced, CORS fields never passed back),
 * and JSON error answers.
 */
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import { MeshsigError, withoutSignatureHeaders } from '../core/index.js'
import { AGENT_HEADER } from './signer-policy.js'

/** Fields that concern one connection only (RFC 9110 §7.6.1), never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])

function connectionTokens(headers: IncomingHttpHeaders): Set<string> {
  const value = headers.connection
  const text = Array.isArray(value) ? value.join(',') : (value ?? '')
  return new Set(
    text
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  )
}

/** `headers` without hop-by-hop fields (the fixed list and those the Connection header names). */
export function endToEndHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const named = connectionTokens(headers)
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue
    out[name] = value
  }
  return out
}

/**
 * The headers forwarded to the gateway before signing: end-to-end fields of
 * the caller, without X-Meshsig-Agent and without any Content-Digest,
 * Signature-Input or Signature the caller sent (the proxy is the signer);
 * `Host` replaced by the gateway's `authority` (the caller's Host never
 * chooses what is signed) and `Content-Length` set to the body read.
 */
export function forwardedRequestHeaders(
  req: IncomingMessage,
  body: Uint8Array,
  authority: string,
): Record<string, string | string[]> {
  const headers = withoutSignatureHeaders(endToEndHeaders(req.headers))
  delete headers[AGENT_HEADER]
  delete headers.expect // the body is already read: nothing to wait for
  headers.host = authority
  const hadBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined
  if (hadBody || body.length > 0) headers['content-length'] = String(body.length)
  else delete headers['content-length']
  return headers
}

/**
 * The gateway's response headers passed back to the caller: hop-by-hop
 * fields and every `Access-Control-*` field dropped, so no browser is ever
 * let read an answer signed for an agent (docs/proxy.md "Browsers", decision 0082).
 */
export function returnedResponseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out = endToEndHeaders(headers)
  for (const name of Object.keys(out)) if (name.startsWith('access-control-')) delete out[name]
  return out
}

/**
 * Read a whole request body, refusing (PAYLOAD_TOO_LARGE) as soon as it
 * exceeds `limit` bytes, whether the Content-Length announces it or the
 * stream delivers it. A request whose caller left (MALFORMED) is refused at
 * once, even when node:http destroyed it before this was called: it emits
 * nothing more, and a read that waited for it would never end (attack review
 * 93, F2).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  const tooLarge = (): MeshsigError =>
    new MeshsigError('PAYLOAD_TOO_LARGE', `request body exceeds the proxy limit of ${limit} bytes; not forwarded`)
  const gone = (): MeshsigError => new MeshsigError('MALFORMED', 'the caller left before its request body was read')
  const announced = Number(req.headers['content-length'] ?? '0')
  if (Number.isFinite(announced) && announced > limit) return Promise.reject(tooLarge())
  if (req.destroyed) return Promise.reject(gone())
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > limit) {
        req.off('data', onData)
        reject(tooLarge())
        return
      }
      chunks.push(chunk)
    }
    req.on('data', onData)
    req.once('end', () => resolve(new Uint8Array(Buffer.concat(chunks))))
    req.once('error', reject)
    req.once('aborted', () => reject(gone()))
    // after 'end' a settled promise ignores it; before, the request was destroyed (the caller left)
    req.once('close', () => reject(gone()))
  })
}

/** Answer with a JSON error `{error, code}` and close the connection (the body may not have been read). */
export function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const body = JSON.stringify({ error: message, code })
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
    'x-meshsig-proxy': 'refused',
  })
  res.end(body)
}
