/**
 * Fixed-window counters per key (an origin peer, a DID), bounded in the keys
 * they track: the relay quotas (relay-guard.ts) and the renewal budget
 * (renewal-budget.ts) count with them (docs/protocol.md §7).
 */

interface Window {
  start: number
  messages: number
  bytes: number
}

/** Fixed-window counters per key, at most `trackedKeys` keys at once. */
export class WindowBudgets {
  private readonly windows = new Map<string, Window>()

  constructor(
    private readonly windowMs: number,
    private readonly trackedKeys: number,
  ) {}

  /** True when one more message of `bytes` keeps `key` within its bounds (counts nothing). */
  fits(key: string, now: number, maxMessages: number, maxBytes: number, bytes: number): boolean {
    const w = this.current(key, now)
    if ((w?.messages ?? 0) + 1 > maxMessages || (w?.bytes ?? 0) + bytes > maxBytes) return false
    if (w !== undefined || this.windows.size < this.trackedKeys) return true
    this.prune(now)
    return this.windows.size < this.trackedKeys
  }

  /** Count one message of `bytes` for `key` (after `fits`). */
  charge(key: string, now: number, bytes: number): void {
    let w = this.current(key, now)
    if (w === undefined) this.windows.set(key, (w = { start: now, messages: 0, bytes: 0 }))
    w.messages += 1
    w.bytes += bytes
  }

  /** The window of `key` still running at `now`, if any. */
  private current(key: string, now: number): Window | undefined {
    const w = this.windows.get(key)
    return w !== undefined && now - w.start < this.windowMs ? w : undefined
  }

  private prune(now: number): void {
    for (const [k, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(k)
  }
}
