/**
 * The seed-compatible SDK surface (`generateIdentity`, `sign`, `verify`) and
 * `verifyEnvelope`, an offline run of the acceptance rules. Plain signatures
 * are Ed25519 over the exact UTF-8 bytes of the message (docs/protocol.md §3).
 */
import { randomBytes } from 'node:crypto'
import { DEFAULT_MAX_SKEW_MS, acceptEnvelope, type AcceptanceContext, type Verdict } from './core/acceptance.js'
import { didFromPublicKey, didKeyFromPublicKey, publicKeyFromIdentifier } from './core/did.js'
import { fromB64, toB64, utf8 } from './core/encoding.js'
import type { KeyState } from './core/kel.js'
import { generateKeyPair, keyPairFromB64, verifySignature, SIGNATURE_LENGTH } from './core/keys.js'
import { signPlain } from './core/plain-signature.js'

/** A new identity as the seed's SDK returned it. Keep `privateKey` secret. */
export interface GeneratedIdentity {
  /** `did:msig:` of the public key. */
  readonly did: string
  /** The equivalent `did:key:z6Mk…`. */
  readonly didKey: string
  /** b64 of the raw 32-byte public key. */
  readonly publicKey: string
  /** b64 of the 32-byte private seed. Never log it or send it anywhere. */
  readonly privateKey: string
  /** Creation time, ISO 8601. */
  readonly createdAt: string
}

/** A message to sign or verify: a string (signed as its UTF-8 bytes) or raw bytes. */
export type SignableMessage = string | Uint8Array

function messageBytes(message: SignableMessage): Uint8Array {
  if (typeof message === 'string') return utf8(message)
  if (message instanceof Uint8Array) return message
  throw new TypeError('message must be a string or a Uint8Array')
}

/** Make a fresh Ed25519 identity (OS randomness). Nothing is written to disk. */
export async function generateIdentity(): Promise<GeneratedIdentity> {
  const key = generateKeyPair()
  return {
    did: didFromPublicKey(key.publicKey),
    didKey: didKeyFromPublicKey(key.publicKey),
    publicKey: toB64(key.publicKey),
    privateKey: toB64(key.seed),
    createdAt: new Date().toISOString(),
  }
}

/**
 * Sign `message` with a b64 private seed; returns the b64 64-byte signature.
 * A string is signed as its UTF-8 bytes (a lone surrogate becomes U+FFFD).
 * Throws `InvalidKeyError` (code `INVALID_KEY`) for a malformed private key,
 * and `SIGNING_REFUSED` for an input another meshsig format would accept as
 * its signing input (a 0xFF first byte, an RFC 9421 signature base).
 */
export async function sign(message: SignableMessage, privateKey: string): Promise<string> {
  return toB64(signPlain(messageBytes(message), keyPairFromB64(privateKey)))
}

/**
 * Verify a plain signature. `publicKeyOrDid` is a did:msig (its inception
 * key: offline, a rotated DID needs its key event log), a did:key or a b64
 * raw public key.
 *
 * Returns false for a wrong signature and for a malformed one (not base64,
 * not 64 bytes). Throws `InvalidDidError` / `InvalidKeyError` (codes
 * `INVALID_DID` / `INVALID_KEY`) when the key or DID itself is malformed,
 * since that is a caller's mistake, not a negative answer.
 */
export async function verify(message: SignableMessage, signature: string, publicKeyOrDid: string): Promise<boolean> {
  const publicKey = publicKeyFromIdentifier(publicKeyOrDid)
  let sig: Uint8Array
  try {
    sig = fromB64(signature, 'signature', SIGNATURE_LENGTH)
  } catch {
    return false
  }
  return verifySignature(messageBytes(message), sig, publicKey)
}

/** Options of `verifyEnvelope`. */
export interface VerifyEnvelopeOptions {
  /**
   * Receiver's clock (ms). When given, a `msg` must lie within `maxSkewMs`
   * of it and its nonce must not be in `nonceSeen`; without it no freshness
   * check runs.
   */
  readonly now?: number
  /** Freshness window (default ±5 minutes). */
  readonly maxSkewMs?: number
  /**
   * Key states the caller knows (e.g. a replayed key event log, see
   * `replayKeyEvents`). A DID without one is checked against the key it
   * names (the inception key of a did:msig).
   */
  readonly keyStates?: ReadonlyMap<string, KeyState> | ((did: string) => KeyState | undefined)
  /** Replay cache: true when `(from, nonce)` was seen before. Default: nothing seen. */
  readonly nonceSeen?: (from: string, nonce: string) => boolean
  /** The controller (hosting node DID) of a DID, for revocations by the controller. */
  readonly controllerOf?: (did: string) => string | undefined
}

/** An in-memory acceptance context built from `VerifyEnvelopeOptions`. */
function offlineContext(opts: VerifyEnvelopeOptions): AcceptanceContext {
  const states = opts.keyStates
  const keyState = (did: string): KeyState | undefined =>
    states === undefined ? undefined : typeof states === 'function' ? states(did) : states.get(did)
  return {
    now: opts.now ?? Date.now(),
    maxSkewMs: opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS,
    keyState,
    controllerOf: (did) => opts.controllerOf?.(did),
    nonceSeen: (from, nonce) => opts.nonceSeen?.(from, nonce) ?? false,
    hasEnvelope: () => false,
    eventIdAt: (did, seq) => {
      const state = keyState(did)
      return state !== undefined && state.seq === seq ? state.lastId : undefined
    },
  }
}

/**
 * Check an envelope offline with the same rules a node applies (docs/protocol.md §4):
 * shape, signature under the signer's current key, revocation, and — when
 * `now` is given — freshness of a `msg`. Never throws: returns the typed
 * verdict (`{ok: true, id, envelope}` or `{ok: false, error}` whose
 * `error.code` says why). Without `keyStates`, a did:msig is checked against
 * its inception key, so a rotated-out key still passes: ask a node (or
 * replay the DID's key log) when that matters.
 */
export function verifyEnvelope(envelope: unknown, opts: VerifyEnvelopeOptions = {}): Verdict {
  return acceptEnvelope(envelope, offlineContext(opts), { fresh: opts.now !== undefined })
}

/** 16 random bytes for a `msg` nonce (OS randomness). */
export function randomNonce(): Uint8Array {
  return new Uint8Array(randomBytes(16))
}
