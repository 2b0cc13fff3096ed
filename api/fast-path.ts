/**
 * The fast path of the hot endpoints, `POST /verify`, `POST /messages/send`
 * and `POST /agents/register`. Express spends several times more per request than
 * the work itself, so these two are answered straight from Node's HTTP
 * server — with the very same guards and handlers: the Host and Origin
 * check, the rate limiter, the bearer token, a size-limited strict JSON body,
 * the shared handler (signature-handlers.ts) and the one error shape.
 * Anything unusual (another content type or encoding, a trusted proxy, a
 * refused Host) is left to the Express app, which answers it as always.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Request, RequestHandler, Response } from 'express'
import { MeshsigError, ERROR_TABLE } from '../node/core/errors.js'
import type { RouteContext } from './app.js'
import { errorBody, toMeshsigError } from './errors.js'
import { requireBearerOffLoopback } from './auth.js'
import { refusalOf } from './security.js'
import { registerHandler } from './routes/agent-routes.js'
import { sendHandler, verifyHandler } from './signature-handlers.js'
import type { ApiRegistered, ApiSent, ApiVerification } from './types.js'

/** Answers a request when it can; returns false to leave it to Express. */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean

interface FastRoute {
  readonly token: boolean
  /** HTTP status of a success (201 for a registration). */
  readonly status?: number
  run(body: unknown, req: IncomingMessage): Promise<ApiSent | ApiVerification | ApiRegistered>
}

const JSON_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.statusCode = status
  res.setHeader('Content-Type', 'application/json; charset=utf-8')
  res.setHeader('Content-Length', Buffer.byteLength(text))
  res.end(text)
}

function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN)
    if (declared > limit) {
      req.resume()
      return reject(new MeshsigError('PAYLOAD_TOO_LARGE', `request body exceeds ${limit} bytes`, { limit }))
    }
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        req.removeAllListeners('data')
        req.resume()
        reject(new MeshsigError('PAYLOAD_TOO_LARGE', `request body exceeds ${limit} bytes`, { limit }))
      } else chunks.push(chunk)
    })
    req.on('error', () => reject(new MeshsigError('INVALID_INPUT', 'request body could not be read')))
    req.on('end', () => {
      // as Express's JSON parser: a leading BOM is dropped, only an empty body is `{}`, strict JSON otherwise
      let text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8')
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
      if (text.length === 0) return resolve({})
      const first = /^[ \t\n\r]*([^ \t\n\r])/.exec(text)?.[1]
      if (first !== '{' && first !== '[') return reject(new MeshsigError('MALFORMED', 'request body is not valid JSON'))
      try {
        resolve(JSON.parse(text))
      } catch {
        reject(new MeshsigError('MALFORMED', 'request body is not valid JSON'))
      }
    })
  })
}

function eligible(req: IncomingMessage, ctx: RouteContext): boolean {
  if (ctx.opts.trustProxy.length > 0) return false
  const encoding = req.headers['content-encoding']
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return false
  const type = req.headers['content-type']
  return type !== undefined && JSON_TYPE.test(type.trim()) && refusalOf(req, ctx.opts) === undefined
}

async function serve(
  ctx: RouteContext,
  route: FastRoute,
  req: IncomingMessage,
  res: ServerResponse,
  onInternal: (err: unknown) => void,
): Promise<void> {
  try {
    if (route.token) requireBearerOffLoopback(req, ctx.opts, ctx.resolveCredential)
    const body = await readJson(req, ctx.opts.bodyLimit)
    send(res, route.status ?? 200, await route.run(body, req))
  } catch (err) {
    const error = toMeshsigError(err, ctx.opts.bodyLimit)
    if (error.code === 'INTERNAL') onInternal(err) // logged once and counted in /metrics, like Express's 500s
    send(res, ERROR_TABLE[error.code].http, errorBody(error))
  }
}

/** The fast path over `ctx`, rate-limited by `limiter` when the limit is on. */
export function createFastPath(
  ctx: RouteContext,
  limiter: RequestHandler | undefined,
  onInternal: (err: unknown) => void,
): FastPath {
  const routes = new Map<string, FastRoute>([
    ['/verify', { token: false, run: (body) => verifyHandler(ctx, body) }],
    ['/messages/send', { token: true, run: (body, req) => sendHandler(ctx, body, req) }],
    ['/agents/register', { token: true, status: 201, run: (body) => registerHandler(ctx, body) }],
  ])
  return (req, res) => {
    if (req.method !== 'POST') return false
    const path = req.url ?? ''
    const route = routes.get(path)
    if (route === undefined || !eligible(req, ctx)) return false
    const start = process.hrtime.bigint()
    res.once('finish', () => ctx.metrics.observeRequest('POST', path, res.statusCode, start))
    if (limiter === undefined) void serve(ctx, route, req, res, onInternal)
    else void limiter(req as Request, res as Response, () => void serve(ctx, route, req, res, onInternal))
    return true
  }
}
