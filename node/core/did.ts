/**
 * Identifiers of docs/protocol.md §2: `did:msig:<b58(raw key)>`, the equivalent
 * `did:key:z6Mk…` (multicodec 0xed01), raw b64 keys, and the libp2p PeerId of
 * an Ed25519 key (computed here without libp2p: identity multihash of the
 * protobuf-encoded public key).
 */
import { InvalidDidError, InvalidKeyError } from './errors.js'
import { fromB58, fromB64, toB58, toB64 } from './encoding.js'
import { KEY_LENGTH } from './keys.js'

/** Prefix of meshsig DIDs. */
export const DID_MSIG_PREFIX = 'did:msig:'
/** Prefix of did:key DIDs. */
export const DID_KEY_PREFIX = 'did:key:'
const ED25519_MULTICODEC = [0xed, 0x01] as const
/** libp2p PublicKey protobuf header for Ed25519 (Type=1, Data length 32). */
const PEER_KEY_PROTOBUF = [0x08, 0x01, 0x12, 0x20] as const
/** Identity multihash header (code 0x00, length 36). */
const IDENTITY_MULTIHASH = [0x00, 0x24] as const

function assertKey(publicKey: Uint8Array): void {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== KEY_LENGTH) {
    throw new InvalidKeyError(`an Ed25519 public key is ${KEY_LENGTH} bytes`)
  }
}

/** `did:msig:` of a raw 32-byte public key. */
export function didFromPublicKey(publicKey: Uint8Array): string {
  assertKey(publicKey)
  return DID_MSIG_PREFIX + toB58(publicKey)
}

/** `did:key:z6Mk…` of a raw 32-byte public key. */
export function didKeyFromPublicKey(publicKey: Uint8Array): string {
  assertKey(publicKey)
  return DID_KEY_PREFIX + 'z' + toB58(Uint8Array.from([...ED25519_MULTICODEC, ...publicKey]))
}

/** did:msig DIDs whose keys are remembered, at most (node/cache-bounds.ts). */
export const DID_KEY_MEMO_LIMIT = 4096

/** Keys of the well-formed did:msig DIDs decoded last: base58 decoding costs ~10 µs and every send names two DIDs. */
const msigKeys = new Map<string, Uint8Array>()

function decodeB58Key(text: string, did: string): Uint8Array {
  if (text.length === 0) throw new InvalidDidError(`DID has no key part: ${did}`)
  let bytes: Uint8Array
  try {
    bytes = fromB58(text)
  } catch {
    throw new InvalidDidError(`DID key part is not base58btc: ${did}`)
  }
  return bytes
}

/**
 * The raw public key a `did:msig:` or `did:key:` names. For did:msig this is
 * the inception key: after a rotation the current key comes from the key
 * event log, not from the DID. Throws `InvalidDidError` with a reason.
 */
export function publicKeyFromDid(did: string): Uint8Array {
  if (typeof did !== 'string') throw new InvalidDidError('DID must be a string')
  if (did.startsWith(DID_MSIG_PREFIX)) {
    const known = msigKeys.get(did)
    if (known !== undefined) return known.slice() // a copy: the caller may write to it
    const key = decodeB58Key(did.slice(DID_MSIG_PREFIX.length), did)
    if (key.length !== KEY_LENGTH) {
      throw new InvalidDidError(`did:msig must encode ${KEY_LENGTH} bytes, got ${key.length}: ${did}`)
    }
    if (msigKeys.size >= DID_KEY_MEMO_LIMIT) msigKeys.clear()
    msigKeys.set(did, key.slice())
    return key
  }
  if (did.startsWith(DID_KEY_PREFIX)) {
    const mb = did.slice(DID_KEY_PREFIX.length)
    if (!mb.startsWith('z')) throw new InvalidDidError(`did:key must use multibase base58btc ('z'): ${did}`)
    const bytes = decodeB58Key(mb.slice(1), did)
    if (bytes[0] !== ED25519_MULTICODEC[0] || bytes[1] !== ED25519_MULTICODEC[1]) {
      throw new InvalidDidError(`did:key is not an Ed25519 key (multicodec 0xed01): ${did}`)
    }
    if (bytes.length !== KEY_LENGTH + 2) {
      throw new InvalidDidError(`did:key must encode a ${KEY_LENGTH}-byte key: ${did}`)
    }
    return bytes.slice(2)
  }
  throw new InvalidDidError(`not a did:msig or did:key DID: ${did.slice(0, 80)}`)
}

/** True when `text` is a well-formed did:msig or did:key. */
export function isDid(text: string): boolean {
  try {
    publicKeyFromDid(text)
    return true
  } catch {
    return false
  }
}

/**
 * Normalise any accepted identifier (did:msig, did:key, raw b64 key) to its
 * did:msig form. Note: a did:msig stays as it is, even after rotation.
 */
export function toMsigDid(identifier: string): string {
  if (identifier.startsWith(DID_MSIG_PREFIX)) {
    publicKeyFromDid(identifier)
    return identifier
  }
  return didFromPublicKey(publicKeyFromIdentifier(identifier))
}

/**
 * The raw key an identifier names: did:msig (inception key), did:key, or b64
 * of the raw 32-byte key. Throws `InvalidDidError` / `InvalidKeyError`.
 */
export function publicKeyFromIdentifier(identifier: string): Uint8Array {
  if (typeof identifier !== 'string') throw new InvalidKeyError('key or DID must be a string')
  if (identifier.startsWith('did:')) return publicKeyFromDid(identifier)
  try {
    return fromB64(identifier, 'public key', KEY_LENGTH)
  } catch {
    throw new InvalidKeyError('expected a did:msig, a did:key or a base64 32-byte Ed25519 public key')
  }
}

/** libp2p PeerId string (base58btc identity multihash, `12D3KooW…`) of an Ed25519 key. */
export function peerIdFromPublicKey(publicKey: Uint8Array): string {
  assertKey(publicKey)
  return toB58(Uint8Array.from([...IDENTITY_MULTIHASH, ...PEER_KEY_PROTOBUF, ...publicKey]))
}

/** The raw Ed25519 key inside a `12D3KooW…` PeerId; throws `InvalidKeyError` otherwise. */
export function publicKeyFromPeerId(peerId: string): Uint8Array {
  let bytes: Uint8Array
  try {
    bytes = fromB58(peerId)
  } catch {
    throw new InvalidKeyError('PeerId is not base58btc')
  }
  const header = [...IDENTITY_MULTIHASH, ...PEER_KEY_PROTOBUF]
  if (bytes.length !== header.length + KEY_LENGTH || header.some((b, i) => bytes[i] !== b)) {
    throw new InvalidKeyError('PeerId does not hold an inline Ed25519 key')
  }
  return bytes.slice(header.length)
}

/** The b64 key a PeerId names, or undefined when it names no Ed25519 key. */
export function peerKeyB64(peerId: string): string | undefined {
  try {
    return toB64(publicKeyFromPeerId(peerId))
  } catch {
    return undefined
  }
}
