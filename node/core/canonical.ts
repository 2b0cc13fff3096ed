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
      return canonicalString(value)
    case 'number':
      if (!Number.isFinite(value)) throw new MalformedError('numbers must be finite')
      return JSON.stringify(value)
    case 'boolean':
      return value ? 'true' : 'false'
    case 'object':
      if (value === null) return 'null'
      if (Array.isArray(value)) return canonicalArray(value as unknown[])
      return canonicalObject(value as Record<string, unknown>)
    default:
      throw new MalformedError(`cannot canonicalize a value of type ${typeof value}`)
  }
}

function canonicalString(value: string): string {
  // a lone surrogate is exactly what makes a string not well-formed (ES2024)
  if (!value.isWellFormed()) throw new MalformedError('string holds a lone UTF-16 surrogate')
  return JSON.stringify(value)
}

// both build the text by concatenation: every envelope, audit entry and checkpoint goes through here
function canonicalArray(values: readonly unknown[]): string {
  let out = '['
  for (let i = 0; i < values.length; i++) out += (i === 0 ? '' : ',') + canonicalize(values[i])
  return out + ']'
}

function canonicalObject(obj: Record<string, unknown>): string {
  const proto = Object.getPrototypeOf(obj) as unknown
  if (proto !== Object.prototype && proto !== null) {
    throw new MalformedError('only plain objects can be canonicalized')
  }
  let out = '{'
  for (const key of Object.keys(obj).sort()) {
    const v = obj[key]
    if (v === undefined) continue
    out += (out.length === 1 ? '' : ',') + canonicalString(key) + ':' + canonicalize(v)
  }
  return out + '}'
}
