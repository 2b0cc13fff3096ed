/**
 * A registry of the timers a piece of code leaves behind. Node's
 * `process.getActiveResourcesInfo()` does not list unref'd timers (every
 * meshsig timer is unref'd), so this wraps the global `setInterval` and
 * `setTimeout` while installed: a timer is live from its creation until it is
 * cleared (or, for a timeout, until it fires).
 */

/** A live timer: where it was made (first frames of its stack) and its delay. */
export interface LiveTimer {
  readonly kind: 'interval' | 'timeout'
  readonly ms: number
  readonly stack: string
}

/** The timers made since `trackTimers()` that are still live. */
export interface TimerRegistry {
  live(): LiveTimer[]
  /** Put the real timer functions back. */
  uninstall(): void
}

/** Start recording the timers made through the globals. */
export function trackTimers(): TimerRegistry {
  const real = {
    setInterval: globalThis.setInterval,
    setTimeout: globalThis.setTimeout,
    clearInterval: globalThis.clearInterval,
    clearTimeout: globalThis.clearTimeout,
  }
  // keyed by the timer's id: a timer may be cleared by its object or by the number it converts to
  const live = new Map<number, LiveTimer>()
  const where = (): string => (new Error().stack ?? '').split('\n').slice(3, 7).join('\n')
  const g = globalThis as unknown as Record<string, unknown>
  g.setInterval = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const t = real.setInterval(fn, ms, ...args)
    live.set(Number(t), { kind: 'interval', ms: ms ?? 0, stack: where() })
    return t
  }
  g.setTimeout = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const t: unknown = real.setTimeout(
      (...a: unknown[]) => {
        live.delete(Number(t))
        fn(...a)
      },
      ms,
      ...args,
    )
    live.set(Number(t), { kind: 'timeout', ms: ms ?? 0, stack: where() })
    return t
  }
  const clear = (t: unknown): void => {
    if (t !== undefined && t !== null) live.delete(Number(t))
  }
  g.clearInterval = (t: NodeJS.Timeout | undefined) => {
    clear(t)
    real.clearInterval(t)
  }
  g.clearTimeout = (t: NodeJS.Timeout | undefined) => {
    clear(t)
    real.clearTimeout(t)
  }
  return {
    live: () => [...live.values()],
    uninstall: () => Object.assign(globalThis, real),
  }
}
