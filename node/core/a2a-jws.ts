/**
 * JSON Web Signatures (RFC 7515) with EdDSA over Ed25519 (RFC 8037 §3.1), the
 * form A2A agent cards are signed in (docs/interop.md §2). The signing input is
 * the ASCII text `base64url(protected header) "." base64url(payload)`.
 *
 * Lookalikes (docs/protocol.md §3): that text starts with `eyJ` and holds only
 * the base64url alphabet and one dot, so it can never be an envelope signing
 * input (first byte 0xFF) nor an RFC 9421 signature base (lines with quotes
 * and a final `"@signature-params":` line). The other way round, a plain
 * signer asked to sign such a text would make a valid JWS, and so a card, for
 * whoever asked: `isJwsSigningInput` is how plain signers refuse it. Pure.
 */
import { utf8 } from './encoding.js'
import { MalformedError } from './errors.js'
import { verifySignature } from './keys.js'
import { fromB64Url, toB64Url } from './jwk.js'

/** A JWS signature in the JSON serialization (RFC 7515 §7.2), payload detached (A2A `AgentCardSignature`). */
export interface JwsSignature {
  /** base64url of the protected header's JSON. */
  readonly protected: string
  /** base64url of the 64-byte Ed25519 signature. */
  readonly signature: string
}

/** Anything that signs bytes with an Ed25519 key. */
export interface JwsSigner {
  sign(data: Uint8Array): Uint8Array
}

/** Bytes outside both base64 alphabets, which lenient decoders drop (Python's `urlsafe_b64decode`, Buffer). */
const NOT_BASE64 = /[^A-Za-z0-9+/_-]/g
/** Byte order marks before the JSON (TextDecoder drops one, Python's `utf-8-sig` one). */
const LEADING_BOMS = /^\ufeff+/
/** Number tokens JSON.parse refuses but Python's `json.loads` takes. */
const PYTHON_NUMBERS = /-?\b(?:NaN|Infinity)\b/g

/**
 * The texts a lenient decoder may read out of a JWS's protected part:
 * every byte outside the base64 alphabets dropped, and the data either cut
 * at the first `=` (Python stops at a pad) or read past every `=` (a decoder
 * that skips them).
 */
function headerCandidates(head: string): string[] {
  const cut = head.includes('=') ? head.slice(0, head.indexOf('=')) : head
  const kept = [cut.replace(NOT_BASE64, ''), head.replace(NOT_BASE64, '')]
  return [...new Set(kept)].map((b64) =>
    Buffer.from(b64.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8').replace(LEADING_BOMS, ''),
  )
}

/** True when `text` is a JSON object to JSON.parse, or to Python's `json.loads` (NaN and Infinity taken). */
function isJsonObject(text: string): boolean {
  if (!text.trimStart().startsWith('{')) return false
  for (const candidate of [text, text.replace(PYTHON_NUMBERS, 'null')]) {
    try {
      const value: unknown = JSON.parse(candidate)
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) return true
    } catch {
      // not JSON this way
    }
  }
  return false
}

/**
 * True when `bytes` could be a JWS signing input, `protected "." payload`,
 * to a lenient verifier: the text before the first dot, read as jose (a
 * BOM, ASCII whitespace and `=` padding dropped) or as Python's
 * `urlsafe_b64decode` (every byte outside the alphabet dropped, nothing read
 * past a pad: the A2A Python SDK with PyJWT ≤ 2.13) read it, is base64 of a
 * JSON object. The payload is not looked at (RFC 7797 lets it be raw text).
 * A plain signer must not sign such bytes: the signature would be a JWS, an
 * A2A card signature, by that key (attack reviews 92 and 94). No size bound:
 * the header is all that is read. Text whose part before a dot only happens
 * to decode to `{…}` is no JSON object, and is signed.
 */
export function isJwsSigningInput(bytes: Uint8Array): boolean {
  const dot = bytes.indexOf(0x2e)
  if (dot <= 0) return false
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, dot).toString('latin1')
  return headerCandidates(head).some(isJsonObject)
}

/** The bytes a JWS signs: ASCII `protected "." base64url(payload)`. */
export function jwsSigningInput(protectedB64: string, payload: string): Uint8Array {
  return utf8(`${protectedB64}.${toB64Url(utf8(payload))}`)
}

/** Sign `payload` (a string, signed as its UTF-8 bytes) with the protected `header` (`alg` set to EdDSA). */
export function signJws(payload: string, header: Readonly<Record<string, unknown>>, signer: JwsSigner): JwsSignature {
  const protectedB64 = toB64Url(utf8(JSON.stringify({ ...header, alg: 'EdDSA' })))
  return { protected: protectedB64, signature: toB64Url(signer.sign(jwsSigningInput(protectedB64, payload))) }
}

/** The protected header of a JWS signature as an object. Throws `MALFORMED`. */
export function jwsHeader(sig: JwsSignature): Record<string, unknown> {
  let header: unknown
  try {
    header = JSON.parse(Buffer.from(fromB64Url(sig.protected, 'protected')).toString('utf8'))
  } catch (err) {
    if (err instanceof MalformedError) throw err
    throw new MalformedError('the JWS protected header is not JSON')
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new MalformedError('the JWS protected header is not a JSON object')
  }
  return header as Record<string, unknown>
}

/** True when `sig` is a valid EdDSA JWS of `payload` under `publicKey` (`alg` must be EdDSA). */
export function verifyJws(payload: string, sig: JwsSignature, publicKey: Uint8Array): boolean {
  if (jwsHeader(sig).alg !== 'EdDSA') return false
  let signature: Uint8Array
  try {
    signature = fromB64Url(sig.signature, 'signature')
  } catch {
    return false
  }
  return verifySignature(jwsSigningInput(sig.protected, payload), signature, publicKey)
}
