/**
 * What the signing proxy checks of a request before it reads its body
 * (docs/proxy.md "Who signs" and "Fail closed"): it did not loop back
 * through this proxy, it is not a browser's and its Host names the listener
 * or the gateway (`browser-guard.ts`, decision 0082), a connection to an agent listener came through the
 * per-uid redirect (`redirect-check.ts`) from a socket of the uid that
 * listener was started for, the target is wholly covered by the signature
 * (`request-target.ts`), and the signer policy names a signer. Each failure
 * answers the caller and nothing is signed or forwarded.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { isMeshsigError, type MeshsigError } from '../core/index.js'
import { browserRefusal } from './browser-guard.js'
import { sendError } from './http-forward.js'
import type { RedirectCheck, RedirectVerdict } from './redirect-check.js'
import { forwardedTarget } from './request-target.js'
import { AGENT_HEADER, type ProxySigner, type SignerFor } from './signer-policy.js'

/** Most uids refused on one agent listener that are reported (`onWrongUid`); later ones are refused unreported. */
export const WRONG_UIDS_REPORTED_PER_LISTENER = 16

/** An agent listener: its label (the signer policy's `listener`) and the only uid it serves. */
export interface AgentListener {
  readonly label: string
  readonly uid: number
}

/** A connection refused because its socket belongs to another uid than its agent listener's. */
export interface WrongUid {
  /** The listener's label (the node proxy: the agent's DID). */
  readonly listener: string
  /** The uid that owns the caller's socket. */
  readonly uid: number
  /** The uid the listener serves. */
  readonly expected: number
  /** The listener's port. */
  readonly port: number
}

/** What admission reads of the proxy. */
export interface AdmissionContext {
  /** This proxy's `Via` entry (RFC 9110 §7.6.3), unique per instance: how it recognises its own requests. */
  readonly via: string
  /** The gateway's authority: the only one signed, and the only one an absolute-form target may name. */
  readonly authority: string
  /** The host names a caller's `Host` may give (`proxyHostNames`): the listener's and the gateway's. */
  readonly hostNames: ReadonlySet<string>
  readonly signerFor: SignerFor
  readonly checkRedirect: RedirectCheck
  /** Per connection, whether it came through the redirect (asked once, at its first request). */
  readonly redirected: WeakMap<Socket, Promise<RedirectVerdict | MeshsigError>>
  /** Told once per agent listener and uid refused there (at most `WRONG_UIDS_REPORTED_PER_LISTENER` each). */
  readonly onWrongUid?: (refusal: WrongUid) => void
  /** Per agent listener, the uids refused there that were reported. */
  readonly wrongUids: Map<string, Set<number>>
}

/** True when the request already went through this very proxy (its `Via` names us): a redirect loop. */
function looped(ctx: AdmissionContext, req: IncomingMessage): boolean {
  const via = req.headers.via
  return via !== undefined && via.split(',').some((hop) => hop.trim() === ctx.via)
}

function chooseSigner(
  ctx: AdmissionContext,
  listener: string | undefined,
  req: IncomingMessage,
  res: ServerResponse,
): ProxySigner | undefined {
  const agent = req.headers[AGENT_HEADER]
  try {
    const signer = ctx.signerFor({
      remoteAddress: req.socket.remoteAddress ?? '',
      remotePort: req.socket.remotePort ?? 0,
      listener,
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

/**
 * True when an agent listener's connection came through the redirect; false
 * for anything unclear; the refusal of a check that did not run (RATE_LIMITED:
 * too many waiting, decision 0048).
 */
function redirected(ctx: AdmissionContext, socket: Socket): Promise<RedirectVerdict | MeshsigError> {
  let answer = ctx.redirected.get(socket)
  if (answer === undefined) {
    const ends = {
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      localPort: socket.localPort ?? 0,
    }
    answer = ctx.checkRedirect(ends).catch((err: unknown) => (isMeshsigError(err) ? err : false))
    ctx.redirected.set(socket, answer)
  }
  return answer
}

/**
 * Answer a connection of an agent listener whose socket belongs to another uid
 * than the listener's: a per-uid rule made for another agent (the node was
 * restarted with the port given to another agent, and deploy-proxy.sh not run
 * again) sends it here. Reported once per listener and uid.
 */
function refuseWrongUid(ctx: AdmissionContext, listener: AgentListener, uid: number, res: ServerResponse): void {
  const port = res.socket?.localPort ?? 0
  const seen = ctx.wrongUids.get(listener.label) ?? new Set<number>()
  ctx.wrongUids.set(listener.label, seen)
  if (!seen.has(uid) && seen.size < WRONG_UIDS_REPORTED_PER_LISTENER) {
    seen.add(uid)
    ctx.onWrongUid?.({ listener: listener.label, uid, expected: listener.uid, port })
  }
  const what =
    `this connection was made by uid ${uid}, but the listener on port ${port} serves uid ${listener.uid} only ` +
    '(a per-uid rule from an earlier deployment sends it here: run scripts/deploy-proxy.sh again, docs/proxy.md)'
  sendError(res, 403, 'FORBIDDEN', `meshsig proxy: ${what}; not forwarded`)
}

/** Answer a connection of an agent listener that was not shown to come through the redirect. */
function refuseUnredirected(res: ServerResponse, why: false | MeshsigError): void {
  if (why !== false) {
    sendError(res, why.httpStatus, why.code, `meshsig proxy: ${why.message}; not forwarded`)
    return
  }
  const what = 'this connection did not come through the per-uid redirect of the gateway port'
  sendError(res, 403, 'FORBIDDEN', `meshsig proxy: ${what} (direct connections to an agent listener are refused)`)
}

/** The target to sign and forward (`forwardedTarget`), or undefined once the caller is answered 400. */
function targetOf(ctx: AdmissionContext, req: IncomingMessage, res: ServerResponse): string | undefined {
  try {
    return forwardedTarget(req.url ?? '/', ctx.authority)
  } catch (err) {
    if (!isMeshsigError(err)) throw err
    sendError(res, err.httpStatus, err.code, `meshsig proxy: ${err.message}; not forwarded`)
    return undefined
  }
}

/**
 * What must hold before a body is read (docs/proxy.md "Fail closed"): no
 * loop, no browser's marks and a Host of the listener or the gateway
 * (docs/proxy.md "Browsers"), an agent listener's connection redirected from a socket of its uid,
 * a target wholly covered by the signature, a signer. Answers the caller and
 * gives undefined otherwise.
 */
export async function admit(
  ctx: AdmissionContext,
  listener: AgentListener | undefined,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<{ signer: ProxySigner; path: string } | undefined> {
  if (looped(ctx, req)) {
    sendError(res, 508, 'PROXY_LOOP', 'meshsig proxy: this request already went through this proxy (redirect loop)')
    return undefined
  }
  const browser = browserRefusal(req.headers, ctx.hostNames)
  if (browser !== undefined) {
    sendError(res, browser.httpStatus, browser.code, `meshsig proxy: ${browser.message}; not forwarded`)
    return undefined
  }
  if (listener !== undefined) {
    const through = await redirected(ctx, req.socket)
    if (through === false || isMeshsigError(through)) {
      refuseUnredirected(res, through)
      return undefined
    }
    if (through.uid !== listener.uid) {
      refuseWrongUid(ctx, listener, through.uid, res)
      return undefined
    }
  }
  const path = targetOf(ctx, req, res)
  if (path === undefined) return undefined
  const signer = chooseSigner(ctx, listener?.label, req, res)
  return signer === undefined ? undefined : { signer, path }
}
