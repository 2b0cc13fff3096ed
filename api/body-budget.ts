/**
 * Request bodies in flight (docs/api.md, "Request bodies"; decision 0092).
 * Every POST body is read whole before it is answered (fast-path.ts,
 * express.json), and the rate limit counts a request at its head, not how
 * many are open: an attack review (H3-4) held 600 bodies of 1 MiB that
 * trickle in, 610 MB, for the 30 s of `requestTimeout`. So before a body is
 * read its request is charged what it may make the node hold — its declared
 * `Content-Length`, or the whole body limit for a chunked body — against
 * three bounds (node/limits.ts): the node's bytes in flight, of which the
 * last `BODY_BYTES_OPERATOR_RESERVE` only the operator may take; and the
 * bodies one rate-limit bucket has open. A request past one is answered 429
 * `RATE_LIMITED` with `Retry-After`, never read, and its connection closed.
 * A body that arrives slower than `BODY_MIN_BYTES_PER_SECOND` is cut. The
 * charge is released once, when the answer closes (sent, or the connection
 * gone).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ERROR_TABLE, MeshsigError } from '../node/core/errors.js'
import {
  BODIES_PER_CLIENT,
  BODY_BYTES_IN_FLIGHT,
  BODY_BYTES_OPERATOR_RESERVE,
  BODY_DEADLINE_BASE_MS,
  BODY_MIN_BYTES_PER_SECOND,
} from '../node/limits.js'
import { errorBody } from './errors.js'

/** The bounds of a `BodyBudget` (defaults in node/limits.ts). */
export interface BodyBudgetLimits {
  /** Body bytes held at once, all clients together. */
  readonly bytes: number
  /** The last part of `bytes` only the operator may take. */
  readonly operatorReserve: number
  /** Requests with a body one rate-limit bucket has open at once. */
  readonly perClient: number
  /** Least arrival rate of a body (bytes a second) past `deadlineBaseMs`. */
  readonly minBytesPerSecond: number
  /** The part of a body's deadline that does not depend on its size (ms). */
  readonly deadlineBaseMs: number
}

/** The documented bounds (node/limits.ts). */
export const DEFAULT_BODY_BUDGET: BodyBudgetLimits = {
  bytes: BODY_BYTES_IN_FLIGHT,
  operatorReserve: BODY_BYTES_OPERATOR_RESERVE,
  perClient: BODIES_PER_CLIENT,
  minBytesPerSecond: BODY_MIN_BYTES_PER_SECOND,
  deadlineBaseMs: BODY_DEADLINE_BASE_MS,
}

/** Who a body is charged to: its rate-limit bucket, and whether it may take the operator's reserve. */
export interface BodyClient {
  readonly key: string
  readonly operator: boolean
}

/** Why a charge was refused: the client's own bound or the node's. */
export type BodyRefusal = 'client' | 'node'

/**
 * The bytes a request may make the node hold reading its body: its declared
 * `Content-Length`, or `bodyLimit` for a chunked or compressed one (its size
 * is not known before it is read and inflated), 0 without a body. A declared length past `bodyLimit` is
 * 0 too: it is refused 413 unread (fast-path.ts, body-parser).
 */
export function bodyCharge(req: IncomingMessage, bodyLimit: number): number {
  if (req.headers['transfer-encoding'] !== undefined) return bodyLimit
  // a compressed body is read up to `bodyLimit` once inflated, whatever its declared length (review H8-1)
  const encoding = req.headers['content-encoding']
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') return bodyLimit
  const declared = Number(req.headers['content-length'] ?? 0)
  return Number.isSafeInteger(declared) && declared > 0 && declared <= bodyLimit ? declared : 0
}

/** The node's budget of request-body bytes in flight, and each bucket's count of open bodies. */
export class BodyBudget {
  readonly limits: BodyBudgetLimits
  #held = 0
  readonly #open = new Map<string, number>()

  constructor(limits: BodyBudgetLimits = DEFAULT_BODY_BUDGET) {
    this.limits = limits
  }

  /** Body bytes held now. */
  get held(): number {
    return this.#held
  }

  /** Charge `bytes` to `client`, or say which bound refuses them. */
  take(client: BodyClient, bytes: number): BodyRefusal | undefined {
    const open = this.#open.get(client.key) ?? 0
    if (open >= this.limits.perClient) return 'client'
    const room = this.limits.bytes - (client.operator ? 0 : this.limits.operatorReserve)
    if (this.#held + bytes > room) return 'node'
    this.#held += bytes
    this.#open.set(client.key, open + 1)
    return undefined
  }

  /** Release what `take` charged `client`; call once per successful `take`. */
  release(client: BodyClient, bytes: number): void {
    this.#held -= bytes
    const open = (this.#open.get(client.key) ?? 1) - 1
    if (open <= 0) this.#open.delete(client.key)
    else this.#open.set(client.key, open)
  }

  /** How long a body of `bytes` may take to arrive (ms). */
  deadlineMs(bytes: number): number {
    return this.limits.deadlineBaseMs + Math.ceil((bytes * 1000) / Math.max(1, this.limits.minBytesPerSecond))
  }
}

function refuse(res: ServerResponse, why: BodyRefusal, limits: BodyBudgetLimits): void {
  const message =
    why === 'client'
      ? `too many requests with a body open at once: at most ${limits.perClient} per client; retry in 1 s`
      : 'the node holds as many request bodies as it may; retry in 1 s'
  const text = JSON.stringify(errorBody(new MeshsigError('RATE_LIMITED', message, { retryAfter: 1 })))
  res.writeHead(ERROR_TABLE.RATE_LIMITED.http, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Retry-After': '1',
    Connection: 'close', // the body is never read
  })
  res.end(text)
}

/**
 * The gate every request passes before its body is read: true when it may go
 * on (no body, or its charge taken until the answer closes), false when it
 * was refused and answered here. `onRefused` counts a refusal (the metrics'
 * rate-limited count).
 */
export function bodyGate(
  budget: BodyBudget,
  bodyLimit: number,
  clientOf: (req: IncomingMessage) => BodyClient,
  onRefused?: () => void,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const bytes = bodyCharge(req, bodyLimit)
    if (bytes === 0) return true
    const client = clientOf(req)
    const refused = budget.take(client, bytes)
    if (refused !== undefined) {
      onRefused?.()
      refuse(res, refused, budget.limits)
      return false
    }
    // too slow a body is cut: its connection destroyed, so the reader sees it aborted and lets go of it
    const timer = setTimeout(() => {
      if (!req.complete) res.destroy()
    }, budget.deadlineMs(bytes))
    timer.unref()
    // released once, on the answer's close or its socket's, whichever comes first: an answer queued behind another
    // on a pipelined socket never closes when the socket is destroyed (review H8-2)
    let held = true
    const release = (): void => {
      if (!held) return
      held = false
      clearTimeout(timer)
      req.socket.off('close', release)
      budget.release(client, bytes)
    }
    res.once('close', release)
    req.socket.once('close', release)
    return true
  }
}
