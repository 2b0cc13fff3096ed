/**
 * Ed25519 public keys as JSON Web Keys (RFC 7517, RFC 8037 §2: `kty` "OKP",
 * `crv` "Ed25519", `x` = base64url of the raw 32 bytes) and their RFC 7638
 * SHA-256 thumbprints (RFC 8037 Appendix A.3). The thumbprint is the `keyid`
 * of Web Bot Auth signatures and the `kid` of the key directory
 * (docs/interop.md). Pure.
 */
import { utf8 } from './encoding.js'
import { InvalidKeyError, MalformedError } from './errors.js'
import { KEY_LENGTH, sha256 } from './keys.js'

/** The public members of an Ed25519 JWK (RFC 8037 §2). */
export interface Ed25519PublicJwk {
  readonly kty: 'OKP'
  readonly crv: 'Ed25519'
  /** base64url (no padding) of the raw 32-byte public key. */
  readonly x: string
}

const B64URL = /^[A-Za-z0-9_-]*$/

/** base64url without padding (RFC 4648 §5, RFC 7515 §2). */
export function toB64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64url')
}

/**
 * Decode base64url without padding, strictly: its alphabet only, and only the
 * one spelling `toB64Url` gives back (no stray bits). Throws `MALFORMED`.
 */
export function fromB64Url(text: string, what = 'value'): Uint8Array {
  if (typeof text !== 'string' || !B64URL.test(text) || text.length % 4 === 1) {
    throw new MalformedError(`${what} is not base64url`)
  }
  const bytes = new Uint8Array(Buffer.from(text, 'base64url'))
  if (toB64Url(bytes) !== text) throw new MalformedError(`${what} is not canonical base64url`)
  return bytes
}

/** The JWK of a raw Ed25519 public key. Throws `INVALID_KEY` for a wrong length. */
export function ed25519Jwk(publicKey: Uint8Array): Ed25519PublicJwk {
  if (publicKey.length !== KEY_LENGTH) throw new InvalidKeyError('an Ed25519 public key is 32 bytes')
  return { kty: 'OKP', crv: 'Ed25519', x: toB64Url(publicKey) }
}

/**
 * The RFC 7638 JWK SHA-256 thumbprint of an Ed25519 public key, base64url:
 * SHA-256 of `{"crv":"Ed25519","kty":"OKP","x":"…"}` (the required members in
 * lexicographic order, no whitespace; RFC 8037 Appendix A.3).
 */
export function jwkThumbprint(publicKey: Uint8Array): string {
  const { crv, kty, x } = ed25519Jwk(publicKey)
  return toB64Url(sha256(utf8(`{"crv":"${crv}","kty":"${kty}","x":"${x}"}`)))
}

/** The raw public key of an Ed25519 JWK (`kty` OKP, `crv` Ed25519). Throws `INVALID_KEY`. */
export function publicKeyFromJwk(jwk: unknown): Uint8Array {
  const k = jwk as Partial<Record<string, unknown>> | null
  if (k === null || typeof k !== 'object' || k.kty !== 'OKP' || k.crv !== 'Ed25519' || typeof k.x !== 'string') {
    throw new InvalidKeyError('not an Ed25519 JWK (kty "OKP", crv "Ed25519", x)')
  }
  let key: Uint8Array
  try {
    key = fromB64Url(k.x, 'x')
  } catch {
    throw new InvalidKeyError('the JWK x member is not base64url')
  }
  if (key.length !== KEY_LENGTH) throw new InvalidKeyError('an Ed25519 public key is 32 bytes')
  return key
}
