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

const COMPACT_INPUT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/

/**
 * True when `bytes` is a JWS signing input: `b64url(header).b64url(payload)`
 * whose header decodes to a JSON object. A plain signer must not sign it: the
 * signature would be a JWS (an A2A card signature) by that key.
 */
export function isJwsSigningInput(bytes: Uint8Array): boolean {
  if (bytes.length === 0 || bytes.length > 1 << 24) return false
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1')
  if (!COMPACT_INPUT.test(text)) return false
  const head = text.slice(0, text.indexOf('.'))
  try {
    const header: unknown = JSON.parse(Buffer.from(head, 'base64url').toString('utf8'))
    return header !== null && typeof header === 'object' && !Array.isArray(header)
  } catch {
    return false
  }
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
