/**
 * Argument hygiene before cac sees argv. cac's parser (mri) turns tokens that
 * look like numbers into numbers (the message "1e3" would become "1000", ""
 * would become 0), reads a bare "-" as an option, and hides everything after
 * "--" from the command's arguments. A signing tool must pass the user's text
 * through byte for byte, so such tokens travel wrapped in a NUL marker (which
 * no real argument can contain) and are unwrapped after parsing.
 */

const MARK = '\u0000'

function needsProtection(token: string): boolean {
  if (token === '-') return true
  if (token.startsWith('-')) return false
  const n = +token
  return n * 0 === 0
}

/** argv split for cac: the tokens to parse and the positional tokens after `--`. */
export interface PreparedArgv {
  /** `node`, the script, then the protected tokens before `--`. */
  readonly parse: string[]
  /** Tokens after `--`: positional arguments, taken literally. */
  readonly trailing: string[]
}

/** Protect numeric-looking tokens and "-" and split off everything after `--`. */
export function prepareArgv(argv: readonly string[]): PreparedArgv {
  const head = argv.slice(0, 2)
  const rest = argv.slice(2)
  const dd = rest.indexOf('--')
  const before = dd === -1 ? rest : rest.slice(0, dd)
  const trailing = dd === -1 ? [] : rest.slice(dd + 1)
  return { parse: [...head, ...before.map((t) => (needsProtection(t) ? MARK + t : t))], trailing }
}

/** Undo `prepareArgv`'s wrapping on one parsed value (strings, arrays of them, other values as they are). */
export function unwrapValue(value: unknown): unknown {
  if (typeof value === 'string') return value.startsWith(MARK) ? value.slice(1) : value
  if (Array.isArray(value)) return value.map(unwrapValue)
  return value
}

/** Undo the wrapping on parsed options (one level: option values). */
export function unwrapOptions(options: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(options)) out[k] = unwrapValue(v)
  return out
}
