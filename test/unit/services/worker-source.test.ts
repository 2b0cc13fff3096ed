// The signing and verifying workers' sources (built by node/services/worker-source.ts) run in real worker
// threads and answer one batch like node:crypto on the calling thread. The pools fall back to the calling
// thread when a worker fails, so only this test tells a broken worker source from a working one.
import { Worker } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { VERIFY_WORKER_SOURCE } from '../../../api/verify-pool.js'
import { generateKeyPair } from '../../../node/core/index.js'
import { SIGN_WORKER_SOURCE } from '../../../node/services/sign-pool.js'

let worker: Worker | undefined

afterEach(async () => {
  await worker?.terminate()
  worker = undefined
})

/** Send one batch of `count` jobs to a worker running `source`; its `out`. */
function runBatch(source: string, count: number, buffer: Buffer): Promise<Uint8Array> {
  worker = new Worker(source, { eval: true })
  const w = worker
  return new Promise((resolve, reject) => {
    w.once('message', ({ id, out }: { id: number; out: Uint8Array }) =>
      id === 7 ? resolve(out) : reject(new Error(`answer to batch ${id}`)),
    )
    w.once('error', reject)
    const copy = new Uint8Array(buffer).buffer
    w.postMessage({ id: 7, count, buffer: copy }, [copy])
  })
}

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(n)
  return b
}

describe('batch worker sources', () => {
  it('the signing worker signs each [0][seed][len][data] job as the key itself does', async () => {
    const keys = [generateKeyPair(), generateKeyPair(), generateKeyPair()]
    const data = keys.map((_, i) => Buffer.from(`job ${i} `.repeat(i + 1)))
    const batch = Buffer.concat(
      keys.flatMap((k, i) => [Buffer.of(0), Buffer.from(k.seed), u32(data[i]!.length), data[i]!]),
    )
    const out = await runBatch(SIGN_WORKER_SOURCE, keys.length, batch)
    expect(out).toHaveLength(64 * keys.length)
    keys.forEach((k, i) =>
      expect(Buffer.from(out.subarray(i * 64, i * 64 + 64))).toEqual(Buffer.from(k.sign(data[i]!))),
    )
  })

  it('the signing worker answers a [1][seed][0] job with the seed’s public key, between signing jobs', async () => {
    const [a, b] = [generateKeyPair(), generateKeyPair()]
    const data = Buffer.from('after the key')
    const batch = Buffer.concat([
      Buffer.of(1),
      Buffer.from(a.seed),
      u32(0),
      Buffer.of(0),
      Buffer.from(b.seed),
      u32(data.length),
      data,
    ])
    const out = await runBatch(SIGN_WORKER_SOURCE, 2, batch)
    expect(Buffer.from(out.subarray(0, 32))).toEqual(Buffer.from(a.publicKey))
    expect(Buffer.from(out.subarray(64, 128))).toEqual(Buffer.from(b.sign(data)))
  })

  it('the verifying worker answers 1 for a valid [len][data][sig][key] check and 0 otherwise', async () => {
    const key = generateKeyPair()
    const data = Buffer.from('hello worker')
    const sig = Buffer.from(key.sign(data))
    const bad = Buffer.from(sig)
    bad[0] = bad[0]! ^ 1
    const other = Buffer.from(generateKeyPair().publicKey)
    const check = (s: Buffer, k: Buffer): Buffer => Buffer.concat([u32(data.length), data, s, k])
    const pub = Buffer.from(key.publicKey)
    const batch = Buffer.concat([check(sig, pub), check(bad, pub), check(sig, other), check(sig, pub)])
    expect([...(await runBatch(VERIFY_WORKER_SOURCE, 4, batch))]).toEqual([1, 0, 0, 1])
  })
})
