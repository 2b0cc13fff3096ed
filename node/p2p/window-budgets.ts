/**
 * Fixed-window counters per key (an origin peer, a delivering peer, a sender
 * DID) for the relay quotas and direct delivery (docs/protocol.md §7, §10).
 * At most `trackedKeys` keys are kept: a new key past it makes room by
 * forgetting the key whose window started first, never by refusing the new
 * one. Keys cost a rogue nothing (fresh peer ids), so refusing newcomers
 * once the table is full locked every honest peer out until the windows
 * ended (attack review 91, F5; decision 0062). Forgetting a key only gives
 * it a fresh window: the flood that pushed it out had a budget of its own
 * for each of the `trackedKeys` keys it used.
 */

/** What one key used in its current window. */
interface Window {
  start: number
  messages: number
  bytes: number
}

/** Counters per key over windows of `windowMs`, at most `trackedKeys` keys (at least 1). */
export class WindowBudgets {
  /** In order of window start: the first is the oldest (a renewed window moves its key to the end). */
  private readonly windows = new Map<string, Window>()
  private readonly max: number

  constructor(
    private readonly windowMs: number,
    trackedKeys: number,
  ) {
    this.max = Math.max(1, trackedKeys)
  }

  /** True when one more message of `bytes` keeps `key` within `maxMessages` and `maxBytes` (counts nothing). */
  fits(key: string, now: number, maxMessages: number, maxBytes: number, bytes: number): boolean {
    const w = this.current(key, now)
    return (w?.messages ?? 0) + 1 <= maxMessages && (w?.bytes ?? 0) + bytes <= maxBytes
  }

  /** Messages `key` has used in its window running at `now` (0 when none runs). */
  used(key: string, now: number): number {
    return this.current(key, now)?.messages ?? 0
  }

  /** Count `messages` (one by default) of `bytes` for `key` (after `fits`); a new key past the bound pushes out the oldest. */
  charge(key: string, now: number, bytes: number, messages = 1): void {
    let w = this.current(key, now)
    if (w === undefined) {
      this.windows.delete(key) // an ended window: its key starts again at the end of the order
      if (this.windows.size >= this.max) this.forgetOldest()
      this.windows.set(key, (w = { start: now, messages: 0, bytes: 0 }))
    }
    w.messages += messages
    w.bytes += bytes
  }

  /** Keys tracked now. */
  get size(): number {
    return this.windows.size
  }

  /** The window of `key` still running at `now`, if any. */
  private current(key: string, now: number): Window | undefined {
    const w = this.windows.get(key)
    return w !== undefined && now - w.start < this.windowMs ? w : undefined
  }

  private forgetOldest(): void {
    const oldest = this.windows.keys().next()
    if (oldest.done !== true) this.windows.delete(oldest.value)
  }
}
