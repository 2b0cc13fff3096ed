/**
 * Byte encodings used on the wire (SPEC conventions): standard padded base64,
 * base58btc without multibase prefix, lowercase hex, UTF-8.
 */
import { base58btc } from 'multiformats/bases/base58'
import { MalformedError } from './errors.js'

/** Standard padded base64 in any spelling: only to tell a foreign alphabet from set padding bits. */
const B64_ALPHABET_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

export { B64_RE } from './b64-pattern.js'

/** Standard padded base64 (RFC 4648 §4) of `bytes`. */
export function toB64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

/**
 * Decode strict standard padded base64. Throws `MalformedError` on any other
 * alphabet, missing padding, whitespace or non-zero padding bits (so every
 * byte string has exactly one accepted text: a signature cannot be re-spelt);
 * `expectedLength` checks the size.
 */
export function fromB64(text: string, what = 'value', expectedLength?: number): Uint8Array {
  if (typeof text !== 'string') throw new MalformedError(`${what} is not standard base64`)
  const bytes = new Uint8Array(Buffer.from(text, 'base64'))
  // Node's decoder is lenient; re-encoding gives the one canonical text, so anything else differs from it
  if (toB64(bytes) !== text) {
    if (!B64_ALPHABET_RE.test(text)) throw new MalformedError(`${what} is not standard base64`)
    throw new MalformedError(`${what} is not canonical base64 (padding bits set)`)
  }
  if (expectedLength !== undefined && bytes.length !== expectedLength) {
    throw new MalformedError(`${what} must be ${expectedLength} bytes, got ${bytes.length}`)
  }
  return bytes
}

/**
 * The canonical spelling of `text`, base64 in the standard alphabet with its
 * padding but perhaps with the unused bits of its last character set (what
 * nodes took before decision 0073); undefined for anything else.
 */
export function canonicalB64(text: string): string | undefined {
  return B64_ALPHABET_RE.test(text) ? Buffer.from(text, 'base64').toString('base64') : undefined
}

/** base58btc (Bitcoin alphabet), no multibase prefix. */
export function toB58(bytes: Uint8Array): string {
  return base58btc.baseEncode(bytes)
}

/** Decode base58btc without prefix; throws `MalformedError` on a bad alphabet. */
export function fromB58(text: string, what = 'value'): Uint8Array {
  try {
    return base58btc.baseDecode(text)
  } catch {
    throw new MalformedError(`${what} is not valid base58btc`)
  }
}

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

const encoder = new TextEncoder()

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text)
}

/** Concatenate byte arrays. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts))
}

/**
 * `ms` (milliseconds since the epoch) as ISO 8601, never throwing: a time a
 * Date cannot hold (past year 275,760, or not a number) is shown as the
 * nearest one it can. Signed times are held to that range at acceptance
 * (`MAX_TS`); this keeps a view of anything stored before from failing.
 */
export function isoTime(ms: number): string {
  const limit = 8_640_000_000_000_000
  const t = Number.isFinite(ms) ? Math.max(-limit, Math.min(limit, ms)) : 0
  return new Date(t).toISOString()
}
