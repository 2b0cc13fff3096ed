/**
 * What a WebSocket upgrade passes before the event stream opens (ws-stream.ts;
 * docs/api.md, "WebSocket event stream"; decision 0046). An upgrade is a
 * request: it counts against its client's bucket of the API's one rate
 * limiter (rate-limit.ts: the bearer's own bucket for the operator token or a
 * live agent credential, else the address's, all of loopback one; behind a
 * trusted proxy the forwarded address, as Express's `req.ip` gives it), and
 * past the limit it is answered 429 with the very same body and `Retry-After`.
 * Whether its bearer proves a client decides which stream slots it may take.
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Request, RequestHandler, Response } from 'express'
import { ERROR_TABLE } from '../node/core/errors.js'
import { bearerOf, forwardedClient, isOperatorToken, type ProxyTrust } from './auth.js'
import type { ResolvedApiOptions } from './options.js'

/** The checks of an upgrade beyond Host and Origin. */
export interface UpgradeGate {
  /**
   * Count the upgrade against its client's rate-limit bucket. Resolves true
   * when it may go on; false when it was answered on `socket` (429, or 500
   * when the limiter failed).
   */
  admit(req: IncomingMessage, socket: Duplex): Promise<boolean>
  /**
   * True when the upgrade's bearer is the operator token, or it carries a
   * live dashboard session (the operator's page: api/dashboard-pass.ts). Not
   * an agent credential: anyone may register an agent and get one (a review
   * took the kept slots with one), so it proves no trusted client.
   */
  proven(req: IncomingMessage): boolean
}

/**
 * The part of a response the rate limiter uses (raw Node methods only, as
 * for the fast path), written as a whole HTTP answer to an upgrade's socket.
 */
class SocketAnswer {
  statusCode = 200
  headersSent = false
  readonly #headers = new Map<string, [string, string]>()

  constructor(
    private readonly socket: Duplex,
    private readonly onEnd: () => void,
  ) {}

  setHeader(name: string, value: number | string | readonly string[]): this {
    this.#headers.set(name.toLowerCase(), [name, Array.isArray(value) ? value.join(', ') : String(value)])
    return this
  }

  getHeader(name: string): string | undefined {
    return this.#headers.get(name.toLowerCase())?.[1]
  }

  end(body = ''): this {
    if (this.headersSent) return this
    this.headersSent = true
    const lines = [`HTTP/1.1 ${this.statusCode} ${STATUS_CODES[this.statusCode] ?? ''}`]
    for (const [name, value] of this.#headers.values()) lines.push(`${name}: ${value}`)
    lines.push(`Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close')
    this.socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`)
    this.onEnd()
    return this
  }
}

const LIMITER_FAILED = JSON.stringify({ error: 'internal error', code: 'INTERNAL' })

/** Run `limiter` (undefined: the limit is off) on an upgrade. */
function admitWith(limiter: RequestHandler | undefined, req: IncomingMessage, socket: Duplex): Promise<boolean> {
  if (limiter === undefined) return Promise.resolve(true)
  return new Promise((resolve) => {
    const answer = new SocketAnswer(socket, () => resolve(false))
    void limiter(req as Request, answer as unknown as Response, (err?: unknown) => {
      if (err === undefined) return resolve(true)
      answer.statusCode = ERROR_TABLE.INTERNAL.http
      answer.setHeader('Content-Type', 'application/json; charset=utf-8').end(LIMITER_FAILED)
    })
  })
}

/** The gate of the API whose rate limiter is `limiter` and whose compiled `trust proxy` is `trustProxy`. */
export function upgradeGate(
  limiter: RequestHandler | undefined,
  opts: ResolvedApiOptions,
  dashboardSession: (req: IncomingMessage) => string | undefined,
  trustProxy: ProxyTrust = () => false,
): UpgradeGate {
  return {
    admit: (req, socket) => {
      // an upgrade skips Express: give it the `req.ip` Express would, so it shares its client's bucket (decision 0090)
      const ip = forwardedClient(req, trustProxy)
      if (ip !== undefined && (req as Partial<Request>).ip === undefined) {
        Object.defineProperty(req, 'ip', { value: ip })
      }
      return admitWith(limiter, req, socket)
    },
    proven: (req) => {
      const bearer = bearerOf(req)
      if (bearer !== undefined) return isOperatorToken(opts, bearer)
      return dashboardSession(req) !== undefined
    },
  }
}
