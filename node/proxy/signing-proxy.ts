/**
 * The signing reverse proxy (SPEC §7): every HTTP request it receives is
 * signed (RFC 9421, `keyid` = the signer DID, `tag="meshsig"`, 60 s
 * lifetime, a fresh nonce, covering method, authority, path, query and
 * Content-Digest) and forwarded to the gateway; the gateway's answer is
 * streamed back. Fail closed: a request it cannot sign gets an error answer
 * and is never forwarded. See docs/proxy.md.
 */
import { randomBytes } from 'node:crypto'
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { isMeshsigError, signRequest, splitTarget, toB64, toHex, type ErrorCode } from '../core/index.js'
import { forwardedRequestHeaders, readBody, returnedResponseHeaders, sendError } from './http-forward.js'
import { AGENT_HEADER, type ProxySigner, type SignerFor } from './signer-policy.js'

/** Default largest request body the proxy buffers to digest (8 MiB). */
export const DEFAULT_PROXY_MAX_BODY = 8 * 1024 * 1024
/** Default time the gateway has to answer (ms). */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 60_000
/**
 * Source address of the proxy's own connections to a loopback gateway (Linux):
 * scripts/deploy-proxy.sh exempts it, so forwarded requests are not redirected
 * back to the proxy.
 */
export const PROXY_SOURCE_ADDRESS = '127.0.0.2'

/** What the proxy records of one forwarded request (audit kind `proxy.request`): never headers or bodies. */
export interface ProxyAuditRecord {
  /** DID of the signer. */
  readonly signer: string
  readonly method: string
  readonly authority: string
  /** The path without the query (a query may hold tokens). */
  readonly path: string
  /** The gateway's status, or the proxy's own 502/504 when the gateway failed. */
  readonly status: number
  /** UNREACHABLE when the gateway could not be reached or did not answer in time. */
  readonly code: ErrorCode | null
}

/** How to run a signing proxy. */
export interface SigningProxyOptions {
  /** Port to listen on (0 = OS-chosen). */
  readonly listenPort: number
  /** Address to listen on; default 127.0.0.1 (the proxy signs for whoever reaches it). */
  readonly listenHost?: string
  /** The gateway. */
  readonly targetHost: string
  readonly targetPort: number
  /** Source address of forwarded connections; default `PROXY_SOURCE_ADDRESS` for a 127.x gateway on Linux, null = OS. */
  readonly upstreamLocalAddress?: string | null
  /** The signer of a request (see `signerPolicy`). */
  readonly signerFor: SignerFor
  /** Called once per forwarded request. */
  readonly audit?: (record: ProxyAuditRecord) => void
  /** Clock, ms since the epoch. */
  readonly clock?: () => number
  /** Randomness for nonces. */
  readonly random?: (n: number) => Uint8Array
  /** Largest request body (bytes); larger ones are answered 413. */
  readonly maxBodyBytes?: number
  /** Time the gateway has to answer (ms); then 504. */
  readonly upstreamTimeoutMs?: number
  /** Errors that have no caller to answer (audit failures); never given key material. */
  readonly onError?: (err: unknown) => void
}

/** A running proxy. */
export interface SigningProxy {
  /** The port it listens on. */
  readonly port: number
  /** `http://host:port`. */
  readonly url: string
  /** Stop listening and close idle connections. */
  close(): Promise<void>
}

const MAX_AUDIT_PATH = 1024
const MAX_AUDIT_AUTHORITY = 255

interface ProxyContext {
  readonly o: SigningProxyOptions
  /** This proxy's `Via` entry (RFC 9110 §7.6.3), unique per instance: how it recognises its own requests. */
  readonly via: string
  readonly agent: Agent
  readonly localAddress: string | undefined
  readonly clock: () => number
  readonly random: (n: number) => Uint8Array
}

function defaultLocalAddress(o: SigningProxyOptions): string | undefined {
  if (o.upstreamLocalAddress !== undefined) return o.upstreamLocalAddress ?? undefined
  return process.platform === 'linux' && /^(127\.|localhost$)/.test(o.targetHost) ? PROXY_SOURCE_ADDRESS : undefined
}

/** True when the request already went through this very proxy (its `Via` names us): a redirect loop. */
function looped(ctx: ProxyContext, req: IncomingMessage): boolean {
  const via = req.headers.via
  return via !== undefined && via.split(',').some((hop) => hop.trim() === ctx.via)
}

function chooseSigner(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse): ProxySigner | undefined {
  const agent = req.headers[AGENT_HEADER]
  try {
    const signer = ctx.o.signerFor({
      remoteAddress: req.socket.remoteAddress ?? '',
      remotePort: req.socket.remotePort ?? 0,
      agent: Array.isArray(agent) ? agent.join(',') : agent,
    })
    if (signer === undefined) {
      sendError(res, 503, 'NO_IDENTITY', 'meshsig proxy: no signing key is configured for this caller; not forwarded')
    }
    return signer
  } catch (err) {
    if (!isMeshsigError(err)) throw err
    sendError(res, err.httpStatus, err.code, `meshsig proxy: ${err.message}`)
    return undefined
  }
}

async function handle(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (looped(ctx, req)) {
    sendError(res, 508, 'PROXY_LOOP', 'meshsig proxy: this request already went through this proxy (redirect loop)')
    return
  }
  const signer = chooseSigner(ctx, req, res)
  if (signer === undefined) return
  let body: Uint8Array
  try {
    body = await readBody(req, ctx.o.maxBodyBytes ?? DEFAULT_PROXY_MAX_BODY)
  } catch (err) {
    if (isMeshsigError(err)) sendError(res, err.httpStatus, err.code, `meshsig proxy: ${err.message}`)
    else res.destroy()
    return
  }
  const target = `${ctx.o.targetHost}:${ctx.o.targetPort}`
  const headers = forwardedRequestHeaders(req, body, target)
  headers.via = req.headers.via === undefined ? ctx.via : `${req.headers.via}, ${ctx.via}`
  const method = req.method ?? 'GET'
  const path = req.url ?? '/'
  const authority = String(headers.host)
  const signed = signRequest(
    { method, authority, path, headers, body },
    { signer, keyid: signer.did, now: ctx.clock(), nonce: toB64(ctx.random(16)) },
  )
  const record = (status: number, code: ErrorCode | null): void =>
    audit(ctx, { signer: signer.did, method, authority, path, status, code })
  forward(ctx, { method, path, headers: { ...headers, ...signed }, body }, req, res, record)
}

interface Outgoing {
  readonly method: string
  readonly path: string
  readonly headers: Record<string, string | string[]>
  readonly body: Uint8Array
}

function forward(
  ctx: ProxyContext,
  out: Outgoing,
  req: IncomingMessage,
  res: ServerResponse,
  record: (status: number, code: ErrorCode | null) => void,
): void {
  const upstream = httpRequest({
    host: ctx.o.targetHost,
    port: ctx.o.targetPort,
    method: out.method,
    path: out.path,
    headers: out.headers,
    agent: ctx.agent,
    ...(ctx.localAddress !== undefined ? { localAddress: ctx.localAddress, family: 4 } : {}),
    timeout: ctx.o.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS,
  })
  let answered = false
  const fail = (status: number, message: string): void => {
    if (answered) return
    answered = true
    record(status, 'UNREACHABLE')
    sendError(res, status, 'UNREACHABLE', `meshsig proxy: ${message}`)
  }
  upstream.once('response', (answer) => {
    answered = true
    record(answer.statusCode ?? 502, null)
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage, returnedResponseHeaders(answer.headers))
    answer.pipe(res)
    answer.once('error', () => res.destroy())
  })
  upstream.once('timeout', () => {
    fail(504, 'the gateway did not answer in time')
    upstream.destroy()
  })
  upstream.once('error', () => fail(502, `the gateway at ${ctx.o.targetHost}:${ctx.o.targetPort} is unreachable`))
  res.once('close', () => {
    if (!res.writableFinished) upstream.destroy()
  })
  req.once('error', () => upstream.destroy())
  upstream.end(out.body)
}

function audit(ctx: ProxyContext, r: ProxyAuditRecord): void {
  if (!ctx.o.audit) return
  try {
    ctx.o.audit({
      ...r,
      authority: r.authority.slice(0, MAX_AUDIT_AUTHORITY),
      path: splitTarget(r.path).path.slice(0, MAX_AUDIT_PATH),
    })
  } catch (err) {
    ctx.o.onError?.(err)
  }
}

/** Start a signing proxy; resolves once it listens. */
export function createSigningProxy(options: SigningProxyOptions): Promise<SigningProxy> {
  const ctx: ProxyContext = {
    o: options,
    via: `1.1 meshsig-${toHex(randomBytes(6))}`,
    agent: new Agent({ keepAlive: true }),
    localAddress: defaultLocalAddress(options),
    clock: options.clock ?? Date.now,
    random: options.random ?? ((n) => new Uint8Array(randomBytes(n))),
  }
  const server = createServer((req, res) => {
    handle(ctx, req, res).catch((err: unknown) => {
      options.onError?.(err)
      sendError(res, 500, 'INTERNAL', 'meshsig proxy: internal error; not forwarded')
    })
  })
  const host = options.listenHost ?? '127.0.0.1'
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.listenPort, host, () => {
      server.off('error', reject)
      const port = (server.address() as AddressInfo).port
      const close = (): Promise<void> =>
        new Promise((done) => {
          ctx.agent.destroy()
          server.close(() => done())
          server.closeAllConnections()
        })
      resolve({ port, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, close })
    })
  })
}
