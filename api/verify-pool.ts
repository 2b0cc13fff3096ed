/**
 * A pool of worker threads that verify Ed25519 signatures in batches. The
 * event loop gathers the checks of one turn into a single transferred
 * buffer per worker (`[u32 len][data][64 sig][32 key]…`) and gets one byte
 * per check back, so the cost of crossing threads is paid per batch, not per
 * request. A failed worker's checks fall back to the calling thread.
 */
import { verifySignature } from '../node/core/keys.js'
import { BatchWorkerPool } from '../node/services/worker-pool.js'
import { VERIFY_WORKER_KEY_CACHE } from '../node/cache-bounds.js'
import { batchWorkerSource } from '../node/services/worker-source.js'
import type { SignatureVerifier } from './verifier.js'

/** The verifying worker: one byte per check (1 valid). JWK import: far cheaper than SPKI DER on OpenSSL 3 (see node/core/keys.ts). */
export const VERIFY_WORKER_SOURCE = batchWorkerSource({
  crypto: 'createPublicKey, verify',
  keyCacheSize: VERIFY_WORKER_KEY_CACHE,
  makeKey:
    "(() => { try { return raw.length === 32 ? createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' }) : null } catch { return null } })()",
  outBytes: 1,
  job: `
    const len = buf.readUInt32LE(o); o += 4
    const data = buf.subarray(o, o + len); o += len
    const sig = buf.subarray(o, o + 64); o += 64
    const key = keyOf(buf.subarray(o, o + 32)); o += 32
    try { out[i] = key !== null && verify(null, data, key, sig) ? 1 : 0 } catch { out[i] = 0 }`,
})

interface Check {
  readonly data: Uint8Array
  readonly signature: Uint8Array
  readonly publicKey: Uint8Array
}

function pack(checks: readonly Check[]): ArrayBuffer {
  const size = checks.reduce((n, c) => n + 4 + c.data.length + 96, 0)
  const buf = Buffer.allocUnsafe(size)
  let o = 0
  for (const c of checks) {
    buf.writeUInt32LE(c.data.length, o)
    o += 4
    buf.set(c.data, o)
    o += c.data.length
    buf.set(c.signature, o)
    o += 64
    buf.set(c.publicKey, o)
    o += 32
  }
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + size)
}

/** A verifier backed by `size` worker threads (checks of one event-loop turn go as one batch). */
export function createVerifyPool(size: number): SignatureVerifier {
  const pool = new BatchWorkerPool<Check, boolean>(size, {
    source: VERIFY_WORKER_SOURCE,
    pack,
    unpack: (out, i) => out[i] === 1,
    inline: (c) => verifySignature(c.data, c.signature, c.publicKey),
  })
  return {
    verify: (data, signature, publicKey) =>
      signature.length !== 64 || publicKey.length !== 32
        ? Promise.resolve(verifySignature(data, signature, publicKey))
        : pool.run({ data, signature, publicKey }),
    close: () => pool.close(),
  }
}
