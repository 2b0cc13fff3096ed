/**
 * The signing proxy's side towards the gateway: one HTTP/1.1 request per
 * signed request, over a keep-alive agent, from the proxy's own source
 * address; the gateway's answer is streamed back, its failures become
 * 502/504 answers to the caller.
 */
import { request as httpRequest, type Agent, type IncomingMessage, type ServerResponse } from 'node:http'
import type { ErrorCode } from '../core/index.js'
import { returnedResponseHeaders, sendError } from './http-forward.js'

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

/** Send the signed request to the gateway and stream its answer back; `record` gets the outcome once. */
export function forward(
  up: Upstream,
  out: Outgoing,
  req: IncomingMessage,
  res: ServerResponse,
  record: (status: number, code: ErrorCode | null) => void,
): void {
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
  upstream.once('error', () => fail(502, `the gateway at ${up.host}:${up.port} is unreachable`))
  res.once('close', () => {
    if (!res.writableFinished) upstream.destroy()
  })
  req.once('error', () => upstream.destroy())
  upstream.end(out.body)
}
