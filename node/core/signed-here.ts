/**
 * Signatures this process made itself (docs/protocol.md §5): checking one
 * of them again — a registration the node just signed, a message signed with
 * a custodied key, a receipt — is a lookup, not an Ed25519 verify. Ed25519
 * signing is correct by construction: a signature made with the seed of
 * public key K over bytes M verifies under K over M, so remembering
 * (K, M, signature) at signing time gives the verdict verify would give.
 *
 * The memo is keyed by the signature and holds SHA-256(K ‖ M), so a lookup
 * that names another key or other bytes misses and is verified in full;
 * nothing outside this process can add to it. Bounded (oldest dropped
 * first); a miss only costs the ordinary verify.
 */
import { hash } from 'node:crypto'

/** Most signatures remembered (about 200 bytes each). */
export const SIGNED_HERE_LIMIT = 8192

const memo = new Map<string, string>()

function digestOf(publicKey: Uint8Array, data: Uint8Array): string {
  // one-shot hash of K ‖ M: cheaper than a Hash object fed twice
  return hash('sha256', Buffer.concat([publicKey, data]), 'base64')
}

function idOf(signature: Uint8Array): string {
  return Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength).toString('base64')
}

/** Remember that this process signed `data` with the key of `publicKey`, giving `signature`. */
export function rememberSigned(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): void {
  if (memo.size >= SIGNED_HERE_LIMIT) {
    const oldest = memo.keys().next().value
    if (oldest !== undefined) memo.delete(oldest)
  }
  memo.set(idOf(signature), digestOf(publicKey, data))
}

/** True when this process made `signature` over exactly `data` with the key of `publicKey`. */
export function signedHere(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  if (memo.size === 0) return false
  const digest = memo.get(idOf(signature))
  return digest !== undefined && digest === digestOf(publicKey, data)
}

/** Forget every remembered signature (tests). */
export function forgetSigned(): void {
  memo.clear()
}
