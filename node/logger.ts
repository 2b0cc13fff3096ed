/**
 * One logger for the node and its API: levels, one child per component, JSON
 * lines when standard error is not a terminal (for log collectors), a short
 * human line when it is. Every warning and error is counted per component, so
 * `/metrics` shows background failures even where nobody reads the log.
 * Injected everywhere (no module reads environment variables on its own); the
 * default comes from `MESHSIG_LOG_LEVEL` once, at the edge. Never pass key
 * material in `fields`: log lines are for operators, not secrets.
 */

/** Log levels, least severe first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const
/** A log level. */
export type LogLevel = (typeof LOG_LEVELS)[number]

/** Structured facts of one log line (strings, numbers, booleans). */
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>

/** A component's logger. */
export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  /** Log an error; `err` is reduced to its message and code (never its stack unless the level is debug). */
  error(message: string, err?: unknown, fields?: LogFields): void
  /** A logger for a sub-component (`api`, `gossip`, …). */
  child(component: string): Logger
  /** Warnings and errors logged so far, per component. */
  counts(): ReadonlyMap<string, number>
}

/** How to make the root logger. */
export interface LoggerOptions {
  readonly level?: LogLevel
  /** Where lines go (default: process.stderr). */
  readonly write?: (line: string) => void
  /** JSON lines (default: when standard error is not a terminal). */
  readonly json?: boolean
  readonly clock?: () => number
}

/** The level named by `text`, or `fallback` when it names none. */
export function parseLogLevel(text: string | undefined, fallback: LogLevel = 'info'): LogLevel {
  const t = (text ?? '').trim().toLowerCase()
  return (LOG_LEVELS as readonly string[]).includes(t) ? (t as LogLevel) : fallback
}

function errorFields(err: unknown, withStack: boolean): LogFields {
  if (err === undefined) return {}
  if (!(err instanceof Error)) return { error: String(err) }
  const code = (err as { code?: unknown }).code
  return {
    error: err.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(withStack && err.stack ? { stack: err.stack } : {}),
  }
}

/** Make the root logger (component `meshsig`). */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const min = LOG_LEVELS.indexOf(opts.level ?? 'info')
  const write = opts.write ?? ((line: string) => void process.stderr.write(line + '\n'))
  const json = opts.json ?? !process.stderr.isTTY
  const clock = opts.clock ?? Date.now
  const counts = new Map<string, number>()
  const emit = (component: string, level: LogLevel, message: string, fields: LogFields): void => {
    if (level === 'warn' || level === 'error') counts.set(component, (counts.get(component) ?? 0) + 1)
    if (LOG_LEVELS.indexOf(level) < min) return
    const at = new Date(clock()).toISOString()
    if (json) write(JSON.stringify({ time: at, level, component, msg: message, ...fields }))
    else {
      const extra = Object.entries(fields)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' ')
      write(`[meshsig ${component}] ${level}: ${message}${extra ? ' ' + extra : ''}`)
    }
  }
  const make = (component: string): Logger => ({
    debug: (m, f = {}) => emit(component, 'debug', m, f),
    info: (m, f = {}) => emit(component, 'info', m, f),
    warn: (m, f = {}) => emit(component, 'warn', m, f),
    error: (m, err, f = {}) => emit(component, 'error', m, { ...errorFields(err, min === 0), ...f }),
    child: (name) => make(`${component}.${name}`),
    counts: () => counts,
  })
  return make('meshsig')
}

/** A logger that writes nothing (tests that check no output, embedded use). */
export function silentLogger(): Logger {
  return createLogger({ level: 'silent', write: () => undefined })
}
