/**
 * Request guards of docs/protocol.md §8: the Host check against DNS rebinding, an Origin
 * check against cross-site requests (there is no permissive CORS), a Sec-Fetch-Site
 * check against a page's no-cors subresource requests (decision 0082), JSON-only
 * bodies, and a bearer for state changes when bound off loopback (auth.ts).
 */
import type { IncomingMessage } from 'node:http'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { MeshsigError } from '../node/core/errors.js'
import { hostNameOf } from '../node/core/host-name.js'
import { requireBearerOffLoopback, type CredentialResolver } from './auth.js'
import type { ResolvedApiOptions } from './options.js'

/** Host name and port of an Origin (default port of its scheme when absent). */
function originParts(origin: string): { host: string; port: string } | undefined {
  try {
    const u = new URL(origin)
    const port = u.port !== '' ? u.port : u.protocol === 'https:' ? '443' : '80'
    return { host: u.hostname.toLowerCase().replace(/^\[|\]$/g, ''), port }
  } catch {
    return undefined
  }
}

/** The port of a Host header value (80 when absent). */
function hostPort(hostHeader: string | undefined): string {
  const m = /:(\d+)$/.exec((hostHeader ?? '').trim())
  return m?.[1] ?? '80'
}

/**
 * Why a request (HTTP or WebSocket upgrade) is refused by the Host and
 * Origin checks, or undefined when it passes. A browser page of another
 * site never passes: its Origin names a host this node does not answer to.
 */
export function refusalOf(req: IncomingMessage, opts: ResolvedApiOptions): MeshsigError | undefined {
  const host = hostNameOf(req.headers.host)
  if (host === undefined || !opts.allowedHosts.has(host)) {
    return new MeshsigError('FORBIDDEN', 'Host header does not name this node (DNS rebinding protection)')
  }
  const origin = req.headers.origin
  if (origin !== undefined && origin !== 'null') {
    // same origin only: a page served by another program on this host (another port) is another site
    const o = originParts(origin)
    if (o === undefined || !opts.allowedHosts.has(o.host) || o.port !== hostPort(req.headers.host)) {
      return new MeshsigError('FORBIDDEN', 'cross-origin requests are not allowed')
    }
  } else if (origin === 'null') {
    return new MeshsigError('FORBIDDEN', 'cross-origin requests are not allowed')
  }
  return crossSiteRefusal(req)
}

/**
 * A request a browser marks as made by a page of another origin
 * (`Sec-Fetch-Site` other than `same-origin` or `none`) that is not a
 * top-level navigation: a no-cors `<img>` or `<script>` GET carries no Origin,
 * and would otherwise spend the anonymous loopback budget (attack review 114,
 * L1; docs/api.md "Browsers"), and so does an `<iframe>`, a navigation whose
 * `Sec-Fetch-Dest` is `iframe` (review 118, M2). A link from another site
 * (`navigate`, `Sec-Fetch-Dest: document` or absent) still opens `/verify?id=…`.
 */
function crossSiteRefusal(req: IncomingMessage): MeshsigError | undefined {
  const site = req.headers['sec-fetch-site']
  if (site === undefined || site === 'same-origin' || site === 'none') return undefined
  const dest = req.headers['sec-fetch-dest']
  if (req.headers['sec-fetch-mode'] === 'navigate' && (dest === undefined || dest === 'document')) return undefined
  return new MeshsigError('FORBIDDEN', `cross-site requests are not allowed (Sec-Fetch-Site: ${site.slice(0, 32)})`)
}

/** Middleware: refuse foreign Host and Origin headers with 403 `FORBIDDEN`. */
export function hostGuard(opts: ResolvedApiOptions): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    next(refusalOf(req, opts))
  }
}

/**
 * POST paths whose body is the text format of their own spec, not JSON: the
 * C2SP tlog-witness add-checkpoint (docs/audit.md). Its only effect needs a
 * checkpoint signed by a log key the witness knows, so a form post from
 * another site gains nothing.
 */
const TEXT_BODY_PATHS: ReadonlySet<string> = new Set(['/witness/add-checkpoint'])

/** Middleware: a POST body must be declared `application/json` (stops form posts from other sites). */
export function jsonOnly(req: Request, _res: Response, next: NextFunction): void {
  if (req.method !== 'POST' || TEXT_BODY_PATHS.has(req.path)) return next()
  const type = req.headers['content-type']
  const length = req.headers['content-length']
  if (
    type === undefined &&
    (length === undefined || length === '0') &&
    req.headers['transfer-encoding'] === undefined
  ) {
    return next()
  }
  if (!req.is('application/json')) {
    return next(new MeshsigError('INVALID_INPUT', 'request body must be JSON (Content-Type: application/json)'))
  }
  if (/^\s*zstd\s*$/i.test(req.headers['content-encoding'] ?? '')) {
    // Node 22's zlib decodes zstd and Node 20's does not: one answer on both (docs/api.md)
    return next(
      new MeshsigError(
        'INVALID_INPUT',
        'unsupported Content-Encoding: send the body uncompressed, or with one gzip, deflate or br encoding',
      ),
    )
  }
  next()
}

/** Middleware for state-changing routes: off loopback or behind a trusted proxy, a bearer is required. */
export function requireToken(opts: ResolvedApiOptions, resolve: CredentialResolver): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    requireBearerOffLoopback(req, opts, resolve)
    next()
  }
}
