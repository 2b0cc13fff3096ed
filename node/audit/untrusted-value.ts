/**
 * An export is untrusted input, and `meshsig audit verify` must give a
 * verdict on any JSON, however deep (attack reviews 82 and 87). `String()`
 * of a nested array and `JSON.stringify` of a nested value recurse, and so do
 * schema checks: a value a hundred thousand levels deep overflows the stack.
 * So an export value is quoted in a problem only through `quoteValue`, which
 * never looks inside it; a document (JSON) or line (NDJSON) nesting deeper
 * than `MAX_EXPORT_DEPTH` is a problem before any check reads it; and a stack
 * overflow anywhere in the checks is a problem of the verdict, never a pass.
 */
import { nestsDeeperThan } from '../core/audit-entry.js'

/**
 * Levels of objects and arrays an export document or NDJSON line may hold.
 * The node's deepest value is an entry's `data` (at most
 * `MAX_AUDIT_DATA_DEPTH` = 64 levels, three below the document); the bound
 * is generous above that and far below what overflows the stack.
 */
export const MAX_EXPORT_DEPTH = 256

/** Characters of a string value shown in a problem. */
const SHOWN_LENGTH = 100

/**
 * An untrusted value as a problem quotes it, bounded and without recursion:
 * a string JSON-quoted (cut past `SHOWN_LENGTH`), a number, boolean, null or
 * undefined as `String` gives it, an array or object by its type alone.
 */
export function quoteValue(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > SHOWN_LENGTH ? `${value.slice(0, SHOWN_LENGTH)}…` : value)
  }
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object' && value !== null) return 'an object'
  return String(value as number | boolean | null | undefined)
}

/**
 * True when an export document (`entries` at `doc.entries`) nests deeper
 * than `MAX_EXPORT_DEPTH`; iterative. An entry's `data` is left to the
 * entry's own check, which bounds it first (`MAX_AUDIT_DATA_DEPTH`) and
 * names the entry.
 */
export function exportNestsTooDeep(doc: unknown): boolean {
  return deeperBeside(doc, MAX_EXPORT_DEPTH, 'entries', (entries, max) =>
    Array.isArray(entries) ? entries.some((e) => deeperBeside(e, max - 1, 'data', () => false)) : false,
  )
}

/** `exportNestsTooDeep` for one NDJSON line (an entry line's entry at `line.entry`). */
export function lineNestsTooDeep(line: Record<string, unknown>): boolean {
  if (line.type !== 'entry') return nestsDeeperThan(line, MAX_EXPORT_DEPTH)
  return deeperBeside(line, MAX_EXPORT_DEPTH, 'entry', (e, max) => deeperBeside(e, max, 'data', () => false))
}

/** Whether `value` nests deeper than `max`, its member `key` measured by `inner` (with the levels left). */
function deeperBeside(value: unknown, max: number, key: string, inner: (v: unknown, max: number) => boolean): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return nestsDeeperThan(value, max)
  return Object.entries(value).some(([k, v]) => (k === key ? inner(v, max - 1) : nestsDeeperThan(v, max - 1)))
}

/** The problem sentence for a document or line too deep to check. */
export const TOO_DEEP = `it nests deeper than ${MAX_EXPORT_DEPTH} levels of objects and arrays: no export does`

/** True when `err` is the engine's stack overflow (a RangeError), which a check of untrusted input turns into a problem. */
export function isStackOverflow(err: unknown): err is RangeError {
  return err instanceof RangeError && /call stack/i.test(err.message)
}
