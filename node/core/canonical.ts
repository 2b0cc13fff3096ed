/**
 * JSON Canonicalization Scheme (RFC 8785) for the values meshsig signs:
 * objects with keys sorted by UTF-16 code units, no whitespace, ECMAScript
 * number and string serialisation. Non-finite numbers, lone surrogates and
 * non-JSON values are refused, since no two parties could agree on them.
 */
import { MalformedError } from './errors.js'

/** The JCS text of `value`. Throws `MalformedError` for values JCS cannot represent. */
export function canonicalize(value: unknown): string {
  switch (typeof value) {
    case 'string':
      // a lone surrogate is exactly what makes a string not well-formed (ES2024)
      if (!value.isWellFormed()) throw new MalformedError('string holds a lone UTF-16 surrogate')
      return JSON.stringify(value)
    case 'number':
      if (!Number.isFinite(value)) throw new MalformedError('numbers must be finite')
      return JSON.stringify(value)
    case 'boolean':
      return value ? 'true' : 'false'
    case 'object':
      if (value === null) return 'null'
      if (Array.isArray(value)) return '[' + value.map((v) => canonicalize(v)).join(',') + ']'
      return canonicalObject(value as Record<string, unknown>)
    default:
      throw new MalformedError(`cannot canonicalize a value of type ${typeof value}`)
  }
}

function canonicalObject(obj: Record<string, unknown>): string {
  const proto = Object.getPrototypeOf(obj) as unknown
  if (proto !== Object.prototype && proto !== null) {
    throw new MalformedError('only plain objects can be canonicalized')
  }
  const parts: string[] = []
  for (const key of Object.keys(obj).sort()) {
    const v = obj[key]
    if (v === undefined) continue
    parts.push(canonicalize(key) + ':' + canonicalize(v))
  }
  return '{' + parts.join(',') + '}'
}
