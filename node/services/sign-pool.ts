/**
 * Ed25519 signing on worker threads, for the node's custodied keys: the
 * event loop gathers the jobs asked for in one turn into one transferred
 * buffer per worker (`[op][32 seed][u32 len][data]…`) and gets 64 bytes per
 * job back: a signature (op 0), or the seed's public key in the first 32
 * (op 1, for a key the node has just made). The seeds never leave the
 * process; a failed worker's jobs run on the calling thread.
 */
import { keyPairFromSeed, rememberSigned, toB64, type KeyPair } from '../core/index.js'
import type { KeyPairCache } from './key-cache.js'
import { BatchWorkerPool } from './worker-pool.js'
import { batchWorkerSource } from './worker-source.js'

/** Key objects each signing thread keeps (by seed, oldest dropped first). */
export const SIGN_WORKER_KEY_CACHE = 1024

/** Public keys of freshly made seeds kept for their first signatures (oldest dropped first). */
export const NEW_KEY_MEMO_SIZE = 1024

const OP_SIGN = 0
const OP_PUBLIC_KEY = 1

/** The signing worker: 64 bytes per job. JWK import: far cheaper than PKCS#8 DER on OpenSSL 3 (see node/core/keys.ts). */
export const SIGN_WORKER_SOURCE = batchWorkerSource({
  crypto: 'createPrivateKey, createPublicKey, sign',
  keyCacheSize: SIGN_WORKER_KEY_CACHE,
  makeKey:
    "createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: raw.toString('base64url'), x: '' }, format: 'jwk' })",
  outBytes: 64,
  job: `
    const op = buf[o]; o += 1
    const seed = buf.subarray(o, o + 32); o += 32
    const len = buf.readUInt32LE(o); o += 4
    if (op === ${OP_PUBLIC_KEY}) out.set(Buffer.from(createPublicKey(keyOf(seed)).export({ format: 'jwk' }).x, 'base64url'), i * 64)
    else out.set(sign(null, buf.subarray(o, o + len), keyOf(seed)), i * 64)
    o += len`,
})

interface Job {
  readonly op: typeof OP_SIGN | typeof OP_PUBLIC_KEY
  readonly seed: Uint8Array
  readonly data: Uint8Array
}

const NO_DATA = new Uint8Array(0)

/** Signs with custodied seeds off the event loop. */
export class SignPool {
  private readonly pool: BatchWorkerPool<Job, Uint8Array>

  /** Public keys the workers derived for new seeds (by b64 seed): their first signatures need no key pair here. */
  private readonly newKeys = new Map<string, Uint8Array>()

  constructor(
    size: number,
    private readonly keys?: KeyPairCache,
  ) {
    const pair = (seed: Uint8Array): KeyPair => (keys ? keys.get(seed) : keyPairFromSeed(seed))
    this.pool = new BatchWorkerPool(size, {
      source: SIGN_WORKER_SOURCE,
      pack,
      unpack: (out, i) => out.slice(i * 64, i * 64 + 64),
      inline: (j) => (j.op === OP_PUBLIC_KEY ? padded(pair(j.seed).publicKey) : pair(j.seed).sign(j.data)),
    })
  }

  /**
   * The public key of a seed the node has just made (a new agent's key),
   * derived on a worker thread. Remembered (bounded) so that the signatures
   * this pool then makes with that seed are remembered as made here without
   * building its key pair on the event loop.
   */
  async publicKey(seed: Uint8Array): Promise<Uint8Array> {
    const out = await this.pool.run({ op: OP_PUBLIC_KEY, seed, data: NO_DATA })
    const publicKey = out.slice(0, 32)
    if (this.newKeys.size >= NEW_KEY_MEMO_SIZE) this.newKeys.delete(this.newKeys.keys().next().value!)
    this.newKeys.set(toB64(seed), publicKey)
    return publicKey
  }

  /**
   * Ed25519 signature of `data` with the key of the 32-byte `seed`. A
   * worker's signature is remembered as made here (node/core/signed-here.ts),
   * so the acceptance check of the envelope it signs costs no verify.
   */
  async sign(seed: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
    const signature = await this.pool.run({ op: OP_SIGN, seed, data })
    const publicKey = this.newKeys.get(toB64(seed)) ?? this.keys?.get(seed).publicKey
    if (publicKey) rememberSigned(publicKey, data, signature)
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

function padded(publicKey: Uint8Array): Uint8Array {
  const out = new Uint8Array(64)
  out.set(publicKey)
  return out
}

function pack(jobs: readonly Job[]): ArrayBuffer {
  const size = jobs.reduce((n, j) => n + 37 + j.data.length, 0)
  const buf = Buffer.allocUnsafe(size)
  let o = 0
  for (const j of jobs) {
    buf[o++] = j.op
    buf.set(j.seed, o)
    o += 32
    buf.writeUInt32LE(j.data.length, o)
    o += 4
    buf.set(j.data, o)
    o += j.data.length
  }
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + size)
}
