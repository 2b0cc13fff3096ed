/**
 * A progress bar on standard error for long CLI work (`meshsig audit
 * verify` on a big export). Drawn only when stderr is a terminal, so pipes,
 * files and `--json` consumers never see it; it appears only once the work
 * has lasted a moment, is redrawn at most a few times a second, and is
 * erased when the work ends.
 */
import type { CliIo } from './context.js'

/** Options of `progressBar`. */
export interface ProgressOptions {
  /** Text before the bar. */
  readonly label: string
  /** Name of the units counted ("entries"). */
  readonly unit?: string
  /** Draw nothing until the work has lasted this long (ms). Default 250. */
  readonly delayMs?: number
  /** Least time between two redraws (ms). Default 100. */
  readonly intervalMs?: number
  /** Width of the bar in characters. Default 30. */
  readonly width?: number
}

/** A progress reporter: `update(done, total)` as the work advances, `done()` at the end. */
export interface ProgressBar {
  update(done: number, total: number): void
  done(): void
}

const SILENT: ProgressBar = { update: () => undefined, done: () => undefined }

/** The line for `done` of `total`: label, bar, percentage and counts. */
export function progressLine(label: string, done: number, total: number, width = 30, unit = ''): string {
  const ratio = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1
  const filled = Math.round(ratio * width)
  const bar = '█'.repeat(filled) + '░'.repeat(width - filled)
  const counts = `${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}${unit ? ' ' + unit : ''}`
  return `${label} ${bar} ${(ratio * 100).toFixed(0).padStart(3)}% ${counts}`
}

/** A progress bar on `io.stderr`, or one that draws nothing when stderr is not a terminal. */
export function progressBar(io: CliIo, options: ProgressOptions): ProgressBar {
  if (io.stderrIsTTY !== true) return SILENT
  const started = io.now()
  const delay = options.delayMs ?? 250
  const interval = options.intervalMs ?? 100
  let lastDraw = -Infinity
  let drawn = false
  return {
    update(done, total) {
      const now = io.now()
      if (now - started < delay || now - lastDraw < interval) return
      lastDraw = now
      drawn = true
      io.stderr(`\r${progressLine(options.label, done, total, options.width, options.unit)}\u001b[K`)
    },
    done() {
      if (drawn) io.stderr('\r\u001b[K')
      drawn = false
    },
  }
}
