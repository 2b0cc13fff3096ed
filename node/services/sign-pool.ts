/**
 * Ed25519 signing on worker threads, for the node's custodied keys: the
 * event loop gathers the signatures asked for in one turn into one
 * transferred buffer per worker (`[32 seed][u32 len][data]…`) and gets 64
 * bytes per signature back. The seeds never leave the process; a failed
 * worker's jobs are signed on the calling thread.
 */
import { keyPairFromSeed, rememberSigned } from '../core/index.js'
import type { KeyPairCache } from './key-cache.js'
import { BatchWorkerPool } from './worker-pool.js'
import { batchWorkerSource } from './worker-source.js'

/** Key objects each signing thread keeps (by seed, oldest dropped first). */
export const SIGN_WORKER_KEY_CACHE = 1024

/** The signing worker: 64 bytes per job. JWK import: far cheaper than PKCS#8 DER on OpenSSL 3 (see node/core/keys.ts). */
export const SIGN_WORKER_SOURCE = batchWorkerSource({
  crypto: 'createPrivateKey, sign',
  keyCacheSize: SIGN_WORKER_KEY_CACHE,
  makeKey:
    "createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: raw.toString('base64url'), x: '' }, format: 'jwk' })",
  outBytes: 64,
  job: `
    const seed = buf.subarray(o, o + 32); o += 32
    const len = buf.readUInt32LE(o); o += 4
    out.set(sign(null, buf.subarray(o, o + len), keyOf(seed)), i * 64); o += len`,
})

interface Job {
  readonly seed: Uint8Array
  readonly data: Uint8Array
}

/** Signs with custodied seeds off the event loop. */
export class SignPool {
  private readonly pool: BatchWorkerPool<Job, Uint8Array>

  constructor(
    size: number,
    private readonly keys?: KeyPairCache,
  ) {
    this.pool = new BatchWorkerPool(size, {
      source: SIGN_WORKER_SOURCE,
      pack,
      unpack: (out, i) => out.slice(i * 64, i * 64 + 64),
      inline: (j) => (keys ? keys.get(j.seed) : keyPairFromSeed(j.seed)).sign(j.data),
    })
  }

  /**
   * Ed25519 signature of `data` with the key of the 32-byte `seed`. A
   * worker's signature is remembered as made here (node/core/signed-here.ts),
   * so the acceptance check of the envelope it signs costs no verify.
   */
  async sign(seed: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
    const signature = await this.pool.run({ seed, data })
    if (this.keys) rememberSigned(this.keys.get(seed).publicKey, data, signature)
    return signature
  }

  /** Stop the workers (pending jobs are signed on the calling thread). */
  close(): Promise<void> {
    return this.pool.close()
  }

  /** Startable: nothing starts here, the threads start on first use (a batch of more than one job). */
  start(): void {}

  /** Startable: terminate the threads (later jobs are signed on the calling thread). */
  stop(): Promise<void> {
    return this.close()
  }

  /** Worker threads alive now: 0 until the first batch and after `stop`. */
  threads(): number {
    return this.pool.threads()
  }
}

function pack(jobs: readonly Job[]): ArrayBuffer {
  const size = jobs.reduce((n, j) => n + 36 + j.data.length, 0)
  const buf = Buffer.allocUnsafe(size)
  let o = 0
  for (const j of jobs) {
    buf.set(j.seed, o)
    o += 32
    buf.writeUInt32LE(j.data.length, o)
    o += 4
    buf.set(j.data, o)
    o += j.data.length
  }
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + size)
}
