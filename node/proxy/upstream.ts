/**
 * The signing proxy's side towards the gateway: one HTTP/1.1 request per
 * signed request, over a keep-alive agent, from the proxy's own source
 * address; the gateway's answer is streamed back, its failures become
 * 502/504 answers to the caller. Nothing the gateway answers can throw out
 * of the proxy (docs/proxy.md, "Fail closed"): node:http's client accepts
 * status lines its server refuses to write, so a status outside 100-599 is a
 * 502 and a reason phrase node:http cannot write is replaced by the standard one.
 */
import {
  request as httpRequest,
  type Agent,
  type ClientRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http'
import type { Duplex } from 'node:stream'
import type { ErrorCode } from '../core/index.js'
import { returnedResponseHeaders, sendError } from './http-forward.js'
import type { ProxyOutcome } from './proxy-audit.js'

/** Where and how the proxy connects to the gateway. */
export interface Upstream {
  readonly host: string
  readonly port: number
  readonly agent: Agent
  /** Source address of the proxy's connections (exempted from the redirect), or the OS's choice. */
  readonly localAddress: string | undefined
  /** Time the gateway has to answer (ms); then 504. */
  readonly timeoutMs: number
}

/** A signed request ready to forward. */
export interface Outgoing {
  readonly method: string
  readonly path: string
  readonly headers: Record<string, string | string[]>
  readonly body: Uint8Array
}

/**
 * Final statuses the proxy passes back (RFC 9110 §15: 200-599); any other is a
 * broken answer (502). An informational 1xx is never a final answer, and a 101
 * would switch the caller's connection to a protocol it never asked for.
 */
export function passableStatus(status: number | undefined): number | undefined {
  return status !== undefined && Number.isInteger(status) && status >= 200 && status <= 599 ? status : undefined
}

/** A reason phrase node:http writes (RFC 9112 §4: HTAB, SP, VCHAR, obs-text), else undefined: the standard one. */
export function passableReason(reason: string | undefined): string | undefined {
  return reason !== undefined && /^[\t\x20-\x7e\x80-\xff]*$/.test(reason) ? reason : undefined
}

/** Undo what a `writeHead` that threw may have set, so an error answer carries none of the gateway's headers. */
function clearHeaders(res: ServerResponse): void {
  for (const name of res.getHeaderNames()) res.removeHeader(name)
}

/**
 * Write the gateway's status line and headers to the caller: the status, or
 * undefined (nothing written, the caller's answer cleared) when node:http
 * cannot write them: the gateway's fault, never a throw out of the listener.
 */
function writeBack(answer: IncomingMessage, res: ServerResponse): number | undefined {
  const status = passableStatus(answer.statusCode)
  try {
    if (status === undefined) throw new RangeError('status outside 200-599')
    res.writeHead(status, passableReason(answer.statusMessage), returnedResponseHeaders(answer.headers))
    return status
  } catch {
    if (res.headersSent) res.destroy()
    else clearHeaders(res)
    return undefined
  }
}

/**
 * Send the signed request to the gateway and stream its answer back; `record` gets the outcome once.
 * Returns the request to the gateway (its 'finish': the body is handed to the kernel).
 */
export function forward(
  up: Upstream,
  out: Outgoing,
  req: IncomingMessage,
  res: ServerResponse,
  record: (outcome: ProxyOutcome) => void,
): ClientRequest {
  const upstream = httpRequest({
    host: up.host,
    port: up.port,
    method: out.method,
    path: out.path,
    headers: out.headers,
    agent: up.agent,
    ...(up.localAddress !== undefined ? { localAddress: up.localAddress, family: 4 } : {}),
    timeout: up.timeoutMs,
  })
  let answered = false
  const fail = (status: number, code: ErrorCode, message: string): void => {
    if (answered) return
    answered = true
    record({ status, code })
    sendError(res, status, code, `meshsig proxy: ${message}`)
  }
  upstream.once('response', (answer) => {
    const status = writeBack(answer, res)
    if (status === undefined) {
      upstream.destroy()
      const why = 'answered with a status line or headers that cannot be passed on'
      return fail(502, 'PEER_ERROR', `the gateway at ${up.host}:${up.port} ${why}`)
    }
    answered = true
    record({ status, code: null })
    answer.pipe(res)
    answer.once('error', () => res.destroy())
  })
  upstream.once('upgrade', (_answer, socket: Duplex) => {
    // a 101: node:http hands over the socket; the caller asked for no other protocol (docs/proxy.md)
    socket.destroy()
    fail(502, 'PEER_ERROR', `the gateway at ${up.host}:${up.port} switched protocols (101); only HTTP answers pass`)
  })
  upstream.once('timeout', () => {
    fail(504, 'UNREACHABLE', 'the gateway did not answer in time')
    upstream.destroy()
  })
  upstream.once('error', () => fail(502, 'UNREACHABLE', `the gateway at ${up.host}:${up.port} is unreachable`))
  res.once('close', () => {
    if (res.writableFinished) return
    // the caller hung up first: so the log says, not that the gateway, which may have acted, was unreachable
    if (!answered) record({ status: null, code: null, callerLeft: true })
    answered = true
    upstream.destroy()
  })
  req.once('error', () => upstream.destroy())
  upstream.end(out.body)
  return upstream
}
