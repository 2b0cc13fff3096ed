/**
 * The signing reverse proxy (docs/proxy.md): every HTTP request it receives is
 * signed (RFC 9421, `keyid` = the signer DID, `tag="meshsig"`, 60 s
 * lifetime, a fresh nonce, covering method, authority, path, query and
 * Content-Digest) and forwarded to the gateway; the gateway's answer is
 * streamed back. `@authority` is always the gateway's own (the caller's Host
 * is replaced), so a signature is only ever valid at the gateway. Besides its
 * default listener the proxy has one listener per attributed agent. Fail
 * closed: a request it cannot sign gets an error answer and is never
 * forwarded; a browser's request, or one whose Host names neither the
 * listener nor the gateway, is refused (decision 0082). See docs/proxy.md.
 */
import { randomBytes } from 'node:crypto'
import { Agent, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import { isMeshsigError, toHex } from '../core/index.js'
import { DEFAULT_LIMITS } from '../limits.js'
import { admit, type AdmissionContext, type AgentListener, type WrongUid } from './admission.js'
import { proxyHostNames } from './browser-guard.js'
import { forwardedRequestHeaders, readBody, sendError } from './http-forward.js'
import { auditOutcome, auditRequest, type ProxyAudit, type ProxyOutcome } from './proxy-audit.js'
import { ListenerBounds, hold, withinRate } from './listener-bounds.js'
import { listenAll, type RequestHandler } from './proxy-listeners.js'
import { procRedirectCheck, type RedirectCheck } from './redirect-check.js'
import { forward, type Upstream } from './upstream.js'
import type { ProxySigner, SignerFor } from './signer-policy.js'
import { signForwarded, type WbaProxyMode } from './web-bot-auth-proxy.js'

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

/**
 * A listener whose callers are all one agent: scripts/deploy-proxy.sh --agent
 * redirects only that agent's uid to it, and it serves only connections that
 * came through that redirect (`checkRedirect`) from a socket of that uid.
 */
export interface AgentListenerSpec {
  /** Passed to the signer policy as `ProxyCaller.listener` (the node proxy uses the agent's DID). */
  readonly label: string
  /** Port to listen on (0 = OS-chosen). */
  readonly port: number
  /** The only uid served: a redirected connection whose socket another uid owns is refused (403). */
  readonly uid: number
}

/** How to run a signing proxy. */
export interface SigningProxyOptions {
  /** Port of the default listener (0 = OS-chosen). */
  readonly listenPort: number
  /** Agent listeners besides the default one. */
  readonly agentListeners?: readonly AgentListenerSpec[]
  /**
   * Agent listeners serve only connections this confirms came through the
   * iptables REDIRECT of the gateway port (others get 403; a check that
   * rejects with a MeshsigError, such as RATE_LIMITED, is that answer);
   * default `procRedirectCheck(targetPort)`, the kernel's socket table.
   */
  readonly checkRedirect?: RedirectCheck
  /** Most connections waiting for the default redirect check (default `limits.proxy.pendingRedirectChecks`). */
  readonly maxPendingRedirectChecks?: number
  /** Told once per agent listener and uid whose connections it refuses for their uid (the node audits it). */
  readonly onWrongUid?: (refusal: WrongUid) => void
  /**
   * Most requests each listener holds at once between reading their body and handing it
   * to the gateway; past it 429 RATE_LIMITED (default `limits.proxy.bufferedRequestsPerListener`).
   */
  readonly maxBufferedRequests?: number
  /**
   * Most requests each listener signs per minute (a token bucket, `listener-bounds.ts`); past it 429
   * RATE_LIMITED before the request is read, signed or audited (default `limits.proxy.signedRequestsPerMinute`).
   */
  readonly maxSignedPerMinute?: number
  /** Address to listen on; default 127.0.0.1 (the proxy signs for whoever reaches it). */
  readonly listenHost?: string
  /** The gateway. */
  readonly targetHost: string
  readonly targetPort: number
  /** The authority signed and sent as `Host`; default `gatewayAuthority(targetHost, targetPort)`. */
  readonly authority?: string
  /** Source address of forwarded connections; default `PROXY_SOURCE_ADDRESS` for a 127.x gateway on Linux, null = OS. */
  readonly upstreamLocalAddress?: string | null
  /** The signer of a request (see `signerPolicy`). */
  readonly signerFor: SignerFor
  /**
   * Called twice per forwarded request (`proxy-audit.ts`): before forwarding (`status: null`; a throw
   * stops the request, answered 500) and with the outcome.
   */
  readonly audit?: ProxyAudit
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
  /** Opt-in Web Bot Auth signatures (docs/interop.md §1); default: the meshsig signature only. */
  readonly webBotAuth?: WbaProxyMode
}

/** A running proxy. */
export interface SigningProxy {
  /** The port of the default listener. */
  readonly port: number
  /** `http://host:port` of the default listener. */
  readonly url: string
  /** The port of each agent listener, by label. */
  readonly agentPorts: ReadonlyMap<string, number>
  /** The authority every signature covers (the gateway's). */
  readonly authority: string
  /** Stop listening and close all connections. */
  close(): Promise<void>
}

interface ProxyContext extends AdmissionContext {
  readonly o: SigningProxyOptions
  readonly upstream: Upstream
  readonly clock: () => number
  readonly random: (n: number) => Uint8Array
}

/**
 * The authority of the gateway as it sees itself addressed: `host:port`,
 * lowercased, the port left out when it is 80 (RFC 9110 §4.2.1 default).
 */
export function gatewayAuthority(host: string, port: number): string {
  const name = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
  return (port === 80 ? name : `${name}:${port}`).toLowerCase()
}

function defaultLocalAddress(o: SigningProxyOptions): string | undefined {
  if (o.upstreamLocalAddress !== undefined) return o.upstreamLocalAddress ?? undefined
  return process.platform === 'linux' && /^(127\.|localhost$)/.test(o.targetHost) ? PROXY_SOURCE_ADDRESS : undefined
}

/** Sign the request, record it, then forward it (docs/proxy.md "Audit": in the log before the gateway has it). */
function signAndForward(
  ctx: ProxyContext,
  { signer, path }: { signer: ProxySigner; path: string },
  body: Uint8Array,
  req: IncomingMessage,
  res: ServerResponse,
): ClientRequest | undefined {
  const headers = forwardedRequestHeaders(req, body, ctx.authority)
  headers.via = req.headers.via === undefined ? ctx.via : `${req.headers.via}, ${ctx.via}`
  const method = req.method ?? 'GET'
  const authority = ctx.authority
  const signing = { now: ctx.clock(), random: ctx.random, ...(ctx.o.webBotAuth ? { wba: ctx.o.webBotAuth } : {}) }
  const signed = signForwarded({ method, authority, path, headers, body }, signer, signing)
  const request = { signer: signer.did, method, authority, path }
  const recorded = auditRequest(ctx.o.audit, ctx.o.onError, request)
  if (recorded === undefined) {
    sendError(res, 500, 'INTERNAL', 'meshsig proxy: the request could not be recorded in the audit log; not forwarded')
    return undefined
  }
  const record = (outcome: ProxyOutcome): void =>
    auditOutcome(ctx.o.audit, ctx.o.onError, request, recorded.entry, outcome)
  return forward(ctx.upstream, { method, path, headers: { ...headers, ...signed }, body }, req, res, record)
}

async function handle(
  ctx: ProxyContext,
  listener: AgentListener | undefined,
  bounds: ListenerBounds,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const admitted = await admit(ctx, listener, req, res)
  if (admitted === undefined || !withinRate(bounds, ctx.clock(), res)) return
  const release = hold(bounds, res)
  if (release === undefined) return
  res.once('close', release) // whatever else happens, a caller gone frees its place (attack review 93, F2)
  let body: Uint8Array
  try {
    body = await readBody(req, ctx.o.maxBodyBytes ?? DEFAULT_PROXY_MAX_BODY)
  } catch (err) {
    release()
    if (isMeshsigError(err)) sendError(res, err.httpStatus, err.code, `meshsig proxy: ${err.message}`)
    else res.destroy()
    return
  }
  let upstream: ClientRequest | undefined
  try {
    upstream = signAndForward(ctx, admitted, body, req, res)
  } finally {
    // the body is held until the gateway's request has it, or is gone
    if (upstream === undefined) release()
    else upstream.once('finish', release).once('close', release)
  }
}

function proxyContext(options: SigningProxyOptions): ProxyContext {
  const authority = options.authority ?? gatewayAuthority(options.targetHost, options.targetPort)
  const listenHost = options.listenHost ?? '127.0.0.1'
  return {
    o: options,
    via: `1.1 meshsig-${toHex(randomBytes(6))}`,
    signerFor: options.signerFor,
    upstream: {
      host: options.targetHost,
      port: options.targetPort,
      agent: new Agent({ keepAlive: true }),
      localAddress: defaultLocalAddress(options),
      timeoutMs: options.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS,
    },
    authority,
    hostNames: proxyHostNames({ listenHost, targetHost: options.targetHost, authority }),
    checkRedirect:
      options.checkRedirect ??
      procRedirectCheck(options.targetPort, undefined, { maxPending: options.maxPendingRedirectChecks }),
    redirected: new WeakMap(),
    wrongUids: new Map(),
    onWrongUid: (refusal) => {
      try {
        options.onWrongUid?.(refusal)
      } catch (err) {
        options.onError?.(err) // the refusal stands; only its report failed
      }
    },
    clock: options.clock ?? Date.now,
    random: options.random ?? ((n) => new Uint8Array(randomBytes(n))),
  }
}

/** The request handler of each listener (by label; undefined: the default one), with bounds of its own. */
function handlers(ctx: ProxyContext): (label: string | undefined) => RequestHandler {
  const { o } = ctx
  const agents = new Map((o.agentListeners ?? []).map(({ label, uid }) => [label, { label, uid }]))
  return (label) => {
    const listener: AgentListener | undefined = label === undefined ? undefined : agents.get(label)
    if (label !== undefined && listener === undefined) throw new Error(`no agent listener is labelled ${label}`)
    const bounds = new ListenerBounds(
      o.maxBufferedRequests ?? DEFAULT_LIMITS.proxy.bufferedRequestsPerListener,
      o.maxSignedPerMinute ?? DEFAULT_LIMITS.proxy.signedRequestsPerMinute,
    )
    return (req, res) => {
      handle(ctx, listener, bounds, req, res).catch((err: unknown) => {
        o.onError?.(err)
        sendError(res, 500, 'INTERNAL', 'meshsig proxy: internal error; not forwarded')
      })
    }
  }
}

/** Start a signing proxy; resolves once every listener listens (a port it cannot bind rejects). */
export async function createSigningProxy(options: SigningProxyOptions): Promise<SigningProxy> {
  const ctx = proxyContext(options)
  const host = options.listenHost ?? '127.0.0.1'
  const specs = [
    { label: undefined, port: options.listenPort },
    ...(options.agentListeners ?? []).map(({ label, port }) => ({ label, port })),
  ]
  const listeners = await listenAll(specs, host, handlers(ctx)).catch((err: unknown) => {
    ctx.upstream.agent.destroy()
    throw err
  })
  const agentPorts = new Map<string, number>()
  for (const l of listeners.bound) if (l.label !== undefined) agentPorts.set(l.label, l.port)
  const port = listeners.bound[0]?.port ?? 0
  return {
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    agentPorts,
    authority: ctx.authority,
    close: () => {
      ctx.upstream.agent.destroy()
      return listeners.close()
    },
  }
}
