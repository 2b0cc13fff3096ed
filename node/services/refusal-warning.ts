/**
 * A warning to the operator about refusals that may go on without end
 * (the registry quota, the renewal budget; docs/protocol.md §7): counted
 * one by one, told at most once per interval with the count since the last.
 */

/** Least time between two warnings (ms). */
export const REFUSAL_WARN_INTERVAL_MS = 60_000

/** Counts refusals and tells `warn` about them at most once per interval. */
export class RefusalWarning {
  private since = 0
  private warnedAt = -Infinity

  constructor(private readonly warn: (message: string) => void) {}

  /** Count one refusal at `now` (ms); when the interval has passed, warn with `describe(refusals since the last)`. */
  refused(now: number, describe: (count: number) => string): void {
    this.since += 1
    if (now - this.warnedAt < REFUSAL_WARN_INTERVAL_MS) return
    this.warn(describe(this.since))
    this.warnedAt = now
    this.since = 0
  }
}
