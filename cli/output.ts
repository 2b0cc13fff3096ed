/**
 * The one place that prints: a command's result as human text or as one JSON
 * object, and any error as `✗ message` (stderr) or `{error, code}` (stdout
 * with --json), with the exit code from the core's `ERROR_TABLE`.
 */
import { surfaceOf, type ErrorCode } from '../node/core/errors.js'
import { escapeUnsafe, oneLine } from '../node/core/untrusted-text.js'
import type { CliIo } from './context.js'

/** What a command hands back to be printed. */
export interface CommandResult {
  /** The object printed with --json. */
  readonly json: Readonly<Record<string, unknown>>
  /** The text printed without --json (no trailing newline needed). */
  readonly human: string
  /** Process exit code (default 0; 1 for a negative answer). */
  readonly exitCode?: number
}

/** Success mark used in human output. */
export const OK = '✓'
/** Failure mark used in human output. */
export const FAIL = '✗'

/**
 * `text` for a terminal or a model: each control, bidi or invisible character
 * but newline and tab (node/core/untrusted-text.ts) shown as `\uXXXX`, never
 * acted on. The values from the network in it are `quoted` or `oneLine`
 * already, so only the command's own text has lines of its own.
 */
export function printable(text: string): string {
  return escapeUnsafe(text, true)
}

/** Print `result` and return its exit code. */
export function printResult(io: CliIo, json: boolean, result: CommandResult): number {
  io.stdout(json ? JSON.stringify(result.json) + '\n' : printable(result.human) + '\n')
  return result.exitCode ?? 0
}

/**
 * Lay out `label: value` lines under a heading, values aligned. Each value
 * stays on its line (`oneLine`): a value from the network cannot add a line,
 * such as a verdict of its own, to the block.
 */
export function block(heading: string, rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(0, ...rows.map(([label]) => label.length + 1))
  return [heading, ...rows.map(([label, value]) => `  ${(label + ':').padEnd(width)} ${oneLine(value)}`)].join('\n')
}

/** Message, code and exit code of any thrown value; cac's usage errors count as bad input. */
export function describeError(err: unknown): { message: string; code: ErrorCode; exit: number; details?: unknown } {
  if (err instanceof Error && err.name === 'CACError') {
    return { message: `${err.message} (see meshsig --help)`, code: 'INVALID_INPUT', exit: 2 }
  }
  const surface = surfaceOf(err)
  const message = err instanceof Error ? err.message : String(err)
  const details = surface.code !== 'INTERNAL' ? (err as { details?: unknown }).details : undefined
  return { message, code: surface.code, exit: surface.exit, ...(details !== undefined ? { details } : {}) }
}

/** Print an error (stderr, or `{error, code}` JSON on stdout) and return its exit code. */
export function printError(io: CliIo, json: boolean, err: unknown): number {
  const { message, code, exit, details } = describeError(err)
  if (json) {
    io.stdout(
      JSON.stringify(details !== undefined ? { error: message, code, details } : { error: message, code }) + '\n',
    )
  } else {
    io.stderr(`${FAIL} ${printable(message)}\n`)
    if (code === 'INTERNAL' && io.env.MESHSIG_DEBUG && err instanceof Error && err.stack) io.stderr(err.stack + '\n')
  }
  return exit
}
