/**
 * Plain-signature verification for `/verify` and `/messages/verify`. Inline
 * on the event loop by default; with workers, batches of checks run on worker
 * threads so a second core shares the Ed25519 work (see verify-pool.ts).
 */
import { verifySignature } from '../node/core/keys.js'

/** Checks Ed25519 signatures. */
export interface SignatureVerifier {
  /** True when `signature` over `data` verifies under the raw 32-byte `publicKey`. */
  verify(data: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): Promise<boolean> | boolean
  /** Release worker threads, if any. */
  close(): Promise<void>
}

/** Verification on the calling thread. */
export const inlineVerifier: SignatureVerifier = {
  verify: (data, signature, publicKey) => verifySignature(data, signature, publicKey),
  close: async () => undefined,
}
