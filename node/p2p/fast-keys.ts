/**
 * libp2p's Ed25519 keys rebuild a node:crypto KeyObject from JWK on every
 * sign and verify (StrictSign signs every published gossip message and
 * verifies every received one). Here the node's own private key signs with
 * the core's cached KeyObject, and Ed25519 public keys verify through the
 * core's cache of KeyObjects. Ed25519 is deterministic, so signatures and
 * verdicts are byte for byte the same; only the cost changes.
 */
import type { PrivateKey, PublicKey } from '@libp2p/interface'
import { keyPairFromSeed, verifySignature } from '../core/keys.js'

type Bytes = Uint8Array | { subarray(): Uint8Array }

function flat(data: Bytes): Uint8Array {
  return data instanceof Uint8Array ? data : data.subarray()
}

const patched = new WeakSet<object>()

/** Make Ed25519 public keys of this libp2p build verify through the core's cached KeyObjects. */
function patchPublicKeyVerify(publicKey: PublicKey): void {
  const proto = Object.getPrototypeOf(publicKey) as { verify?: unknown }
  if (publicKey.type !== 'Ed25519' || patched.has(proto) || typeof proto.verify !== 'function') return
  patched.add(proto)
  Object.defineProperty(proto, 'verify', {
    configurable: true,
    writable: true,
    value: function verify(this: { raw: Uint8Array }, data: Bytes, sig: Uint8Array): boolean {
      return verifySignature(flat(data), sig, this.raw)
    },
  })
}

/** The same key, signing with a KeyObject built once from `seed`. */
export function withCachedSigning(privateKey: PrivateKey, seed: Uint8Array): PrivateKey {
  if (privateKey.type !== 'Ed25519') return privateKey
  const pair = keyPairFromSeed(seed)
  patchPublicKeyVerify(privateKey.publicKey)
  Object.defineProperty(privateKey, 'sign', {
    configurable: true,
    value: (message: Bytes, options?: { signal?: AbortSignal }): Uint8Array => {
      options?.signal?.throwIfAborted()
      return pair.sign(flat(message))
    },
  })
  return privateKey
}
