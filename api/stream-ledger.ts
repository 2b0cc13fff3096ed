/**
 * What the event stream holds for its clients (docs/api.md, "WebSocket event
 * stream"; decision 0091). `ws.bufferedAmount` counts only the bytes still
 * queued in the process: the kernel takes up to `tcp_wmem` (4 MiB on Linux)
 * of a socket's bytes first, so a client that read nothing looked caught up
 * (attack review H3-1). A client is instead as far behind as the bytes sent
 * to it since the last ping it answered: TCP keeps order, so a pong echoing a
 * ping proves every byte sent before that ping was read. The ledger pings a
 * client after each send while none is outstanding, with a random payload,
 * and only a pong echoing the outstanding payload counts (H3-2: an
 * unsolicited pong proves nothing). Other control frames a client sends are
 * counted per pinger round (H3-5).
 */
import { randomBytes } from 'node:crypto'
import type { WebSocket } from 'ws'
import type { StreamLimits } from '../node/limits.js'

/** Control frames a client may send per pinger round besides answering the node's pings (its own pings, stray pongs). */
export const CONTROL_FRAMES_PER_ROUND = 32

/** Bytes of a ping's random payload. */
const PING_BYTES = 8

interface Account {
  readonly proven: boolean
  /** Bytes sent to the client that it has not been proven to have read. */
  behind: number
  /** Bytes sent since the outstanding ping went out. */
  sinceMark: number
  /** The outstanding ping: its payload and the round it went out in. */
  mark?: { readonly payload: Buffer; readonly round: number }
  /** Control frames received this round that answered nothing. */
  controls: number
}

/** Why a client may not take more bytes. */
export type Refusal = 'client' | 'total'

/** Per-client and total bytes held for stream clients, measured by pongs (see the module's comment). */
export class StreamLedger {
  readonly #accounts = new Map<WebSocket, Account>()
  readonly #maxClient: number
  readonly #maxTotal: number
  readonly #maxAnonymous: number
  #total = 0
  #anonymous = 0
  #round = 0

  constructor(limits: StreamLimits) {
    this.#maxClient = limits.maxBufferedBytes
    this.#maxTotal = limits.maxTotalBufferedBytes
    this.#maxAnonymous = this.#maxTotal - Math.ceil((this.#maxTotal * limits.provenPercent) / 100)
  }

  /** Start an account for `ws`; it ends when `ws` closes. */
  open(ws: WebSocket, proven: boolean): void {
    this.#accounts.set(ws, { proven, behind: 0, sinceMark: 0, controls: 0 })
    ws.once('close', () => this.#forget(ws))
  }

  /** Bytes all clients are behind, and the anonymous ones' share of them. */
  held(): { total: number; anonymous: number } {
    return { total: this.#total, anonymous: this.#anonymous }
  }

  /**
   * Why `ws` may not take `size` more bytes, or undefined when it may: a
   * client past nothing always takes one more event (else an event larger
   * than `maxBufferedBytes` reached no one), one already behind only within
   * `maxBufferedBytes`; and all clients together stay within
   * `maxTotalBufferedBytes`, anonymous ones within all but `provenPercent` of it.
   */
  refusal(ws: WebSocket, size: number): Refusal | undefined {
    const a = this.#accounts.get(ws)
    if (a === undefined) return 'client'
    if (a.behind > 0 && a.behind + size > this.#maxClient) return 'client'
    if (this.#total + size > this.#maxTotal) return 'total'
    if (!a.proven && this.#anonymous + size > this.#maxAnonymous) return 'total'
    return undefined
  }

  /** Count `size` bytes just sent to `ws`, and ping it unless a ping is already out. */
  sent(ws: WebSocket, size: number): void {
    const a = this.#accounts.get(ws)
    if (a === undefined) return
    this.#add(a, size)
    a.sinceMark += size
    if (a.mark === undefined) this.#ping(ws, a)
  }

  /** A pong from `ws`: one echoing the outstanding ping proves what was sent before it read. */
  pong(ws: WebSocket, data: Buffer): void {
    const a = this.#accounts.get(ws)
    if (a === undefined) return
    if (a.mark === undefined || !data.equals(a.mark.payload)) return this.control(ws)
    this.#add(a, -(a.behind - a.sinceMark))
    a.mark = undefined
    a.sinceMark = 0
    if (a.behind > 0) this.#ping(ws, a)
  }

  /** A control frame from `ws` that answers nothing; past `CONTROL_FRAMES_PER_ROUND` this round, it is closed (1008). */
  control(ws: WebSocket): void {
    const a = this.#accounts.get(ws)
    if (a === undefined) return
    a.controls += 1
    if (a.controls > CONTROL_FRAMES_PER_ROUND) refuseInput(ws, 'too many control frames')
  }

  /**
   * One pinger round: a client whose ping has been out since before the last
   * round did not read for a whole round and is terminated; every other
   * client without a ping out is pinged (liveness of idle clients).
   */
  round(): void {
    this.#round += 1
    for (const [ws, a] of this.#accounts) {
      a.controls = 0
      if (a.mark !== undefined && a.mark.round < this.#round - 1) ws.terminate()
      else if (a.mark === undefined) this.#ping(ws, a)
    }
  }

  #ping(ws: WebSocket, a: Account): void {
    const payload = randomBytes(PING_BYTES)
    a.mark = { payload, round: this.#round }
    a.sinceMark = 0
    ws.ping(payload)
  }

  #add(a: Account, bytes: number): void {
    a.behind += bytes
    this.#total += bytes
    if (!a.proven) this.#anonymous += bytes
  }

  #forget(ws: WebSocket): void {
    const a = this.#accounts.get(ws)
    if (a === undefined) return
    this.#add(a, -a.behind)
    this.#accounts.delete(ws)
  }
}

/**
 * Close a client for what it sent (1008, policy violation: the stream is
 * one-way, docs/api.md "WebSocket event stream"); one that goes on sending
 * after the close frame is terminated.
 */
export function refuseInput(ws: WebSocket, reason: string): void {
  if (ws.readyState === ws.OPEN) ws.close(1008, reason)
  else ws.terminate()
}
