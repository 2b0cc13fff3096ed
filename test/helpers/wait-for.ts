/**
 * Condition-based waiting for tests: poll a predicate until it holds or a
 * deadline passes. Tests wait for what they need (a subscription, a mesh, a
 * delivery), never for a fixed time.
 */

/** Options of `waitFor`. */
export interface WaitForOptions {
  /** Give up after this many ms (default 10 000). */
  readonly timeout?: number
  /** Poll every this many ms (default 25). */
  readonly interval?: number
  /** What was awaited, for the timeout error message. */
  readonly message?: string
}

/**
 * Resolve once `predicate` returns (or resolves to) a truthy value, with that
 * value. A predicate that throws counts as not yet true; its last error is
 * quoted when the deadline passes.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const timeout = options.timeout ?? 10_000
  const interval = options.interval ?? 25
  const start = Date.now()
  let lastError: unknown
  for (;;) {
    try {
      const value = await predicate()
      if (value) return value as NonNullable<T>
    } catch (err) {
      lastError = err
    }
    if (Date.now() - start > timeout) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : ''
      throw new Error(`waitFor timed out after ${timeout} ms: ${options.message ?? predicate.toString()}${why}`)
    }
    await new Promise((resolve) => setTimeout(resolve, interval))
  }
}
