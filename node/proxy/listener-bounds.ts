/**
 * The bounds of one proxy listener (docs/proxy.md "Limits", `limits.proxy`):
 * how many requests it holds between reading their body and handing it to the
 * gateway (`bufferedRequestsPerListener`), and how many it signs per minute
 * (`signedRequestsPerMinute`): a token bucket of that
 * many tokens, refilled at that rate. Each signed request writes two durable
 * audit entries (`proxy-audit.ts`), whether the gateway answers or not, so
 * without it a caller of a listener that signs (its agent; with
 * --proxy-sign-as-node any local user) grew the log and the commit load
 * without bound (attack review 93: 2,000 requests to a dead gateway, 4,000
 * entries in 16 s). A request past it is refused (429) before it is read,
 * signed or audited: every request signed and sent is still audited.
 */

import type { ServerResponse } from 'node:http'
import { sendError } from './http-forward.js'

/** One listener's bucket. */
export class ListenerRate {
  #tokens: number
  #at: number | undefined

  /** `perMinute` requests a minute, at most that many at once. */
  constructor(readonly perMinute: number) {
    this.#tokens = perMinute
  }

  /** Take one token at `now` (ms); false when none is left. */
  take(now: number): boolean {
    if (this.#at !== undefined && now > this.#at) {
      this.#tokens = Math.min(this.perMinute, this.#tokens + ((now - this.#at) * this.perMinute) / 60_000)
    }
    // a clock stepped back counts as no time passed, and refills from the new time on (attack review 95: kept at
    // the later time, the bucket gave nothing until the clock caught up); a step forward gives a full bucket at most
    this.#at = now
    if (this.#tokens < 1) return false
    this.#tokens -= 1
    return true
  }

  /** Seconds until the next token (at least 1), as of the last `take`. */
  retryAfter(): number {
    return Math.max(1, Math.ceil(((1 - this.#tokens) * 60) / this.perMinute))
  }
}

/** One listener's bounds: the requests it holds now (at most `maxHeld`), and its signing rate. */
export class ListenerBounds {
  held = 0
  readonly rate: ListenerRate

  constructor(
    readonly maxHeld: number,
    signedPerMinute: number,
  ) {
    this.rate = new ListenerRate(signedPerMinute)
  }
}

/** Count one request against the listener's rate at `now`, or answer 429 when it is spent. */
export function withinRate(bounds: ListenerBounds, now: number, res: ServerResponse): boolean {
  if (bounds.rate.take(now)) return true
  const why = `this listener already signed ${bounds.rate.perMinute} requests in the last minute (limits.proxy)`
  const retry = `try again in ${bounds.rate.retryAfter()} s`
  sendError(res, 429, 'RATE_LIMITED', `meshsig proxy: ${why}; ${retry}, not forwarded`)
  return false
}

/** Take one of the listener's places for a buffered request (its release), or answer 429 when none is left. */
export function hold(bounds: ListenerBounds, res: ServerResponse): (() => void) | undefined {
  if (bounds.held >= bounds.maxHeld) {
    const why = `this listener already holds ${bounds.maxHeld} requests being read or forwarded (limits.proxy)`
    sendError(res, 429, 'RATE_LIMITED', `meshsig proxy: ${why}; try again, not forwarded`)
    return undefined
  }
  bounds.held++
  let released = false
  return () => {
    if (!released) bounds.held--
    released = true
  }
}
