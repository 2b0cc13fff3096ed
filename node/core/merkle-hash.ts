/**
 * The hashes of an RFC 9162 §2.1 Merkle tree over SHA-256 (merkle.ts builds
 * roots and proofs on them, merkle-accumulator.ts the append-only frontier):
 * leaf hash = SHA-256(0x00 || data), interior node = SHA-256(0x01 || left ||
 * right).
 */
import { MalformedError } from './errors.js'
import { sha256 } from './keys.js'

/** Length of every hash in the tree, in bytes. */
export const HASH_LENGTH = 32

/** Leaf hashes of a tree: an array, or an accessor returning the hash of leaf `i`. */
export type LeafHashes = readonly Uint8Array[] | ((index: number) => Uint8Array)

/** Root of the empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1). */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0))

/** The empty tree's root, as a fresh copy callers may keep or change. */
export function emptyRoot(): Uint8Array {
  return new Uint8Array(EMPTY_ROOT)
}

/** RFC 9162 leaf hash: SHA-256(0x00 || data). */
export function hashLeaf(data: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + data.length)
  buf.set(data, 1)
  return sha256(buf)
}

const nodeScratch = new Uint8Array(1 + 2 * HASH_LENGTH)
nodeScratch[0] = 0x01

/** RFC 9162 interior node hash: SHA-256(0x01 || left || right). */
export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== HASH_LENGTH || right.length !== HASH_LENGTH) {
    throw new MalformedError(`Merkle node children must be ${HASH_LENGTH}-byte hashes`)
  }
  nodeScratch.set(left, 1)
  nodeScratch.set(right, 1 + HASH_LENGTH)
  return sha256(nodeScratch)
}

/** True when `a` and `b` hold the same bytes. */
export function equalHashes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Throws `MalformedError` unless `size` (named `what`) is a non-negative safe integer: a tree size or index. */
export function checkSize(size: number, what: string): void {
  if (!Number.isSafeInteger(size) || size < 0) throw new MalformedError(`${what} must be a non-negative integer`)
}
