/**
 * Ed25519 signing on worker threads, for the node's custodied keys: the
 * event loop gathers the signatures asked for in one turn into one
 * transferred buffer per worker (`[32 seed][u32 len][data]…`) and gets 64
 * bytes per signature back. The seeds never leave the process; a failed
 * worker's jobs are signed on the calling thread.
 */
import { Worker } from 'node:worker_threads'
import { keyPairFromSeed } from '../core/index.js'
import type { KeyPairCache } from './key-cache.js'

const MAX_BATCH = 256

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads')
const { createPrivateKey, sign } = require('node:crypto')
const PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex')
const keys = new Map()
function keyOf(seed) {
  const id = seed.toString('base64')
  let k = keys.get(id)
  if (k === undefined) {
    if (keys.size >= 1024) keys.delete(keys.keys().next().value)
    k = createPrivateKey({ key: Buffer.concat([PKCS8, seed]), format: 'der', type: 'pkcs8' })
    keys.set(id, k)
  }
  return k
}
parentPort.on('message', ({ id, count, buffer }) => {
  const buf = Buffer.from(buffer)
  const out = new Uint8Array(count * 64)
  let o = 0
  for (let i = 0; i < count; i++) {
    const seed = buf.subarray(o, o + 32); o += 32
    const len = buf.readUInt32LE(o); o += 4
    out.set(sign(null, buf.subarray(o, o + len), keyOf(seed)), i * 64); o += len
  }
  parentPort.postMessage({ id, out }, [out.buffer])
})
`

interface Job {
  readonly seed: Uint8Array
  readonly data: Uint8Array
  resolve(sig: Uint8Array): void
  reject(err: unknown): void
}

/** Signs with custodied seeds off the event loop. */
export class SignPool {
  private readonly workers: { worker: Worker; inflight: Map<number, Job[]> }[] = []
  private queue: Job[] = []
  private scheduled = false
  private nextId = 1
  private closed = false

  constructor(
    size: number,
    private readonly keys?: KeyPairCache,
  ) {
    for (let i = 0; i < size; i++) this.spawn()
  }

  private spawn(): void {
    const worker = new Worker(WORKER_SOURCE, { eval: true })
    worker.unref()
    const slot = { worker, inflight: new Map<number, Job[]>() }
    worker.on('message', ({ id, out }: { id: number; out: Uint8Array }) => {
      const jobs = slot.inflight.get(id)
      slot.inflight.delete(id)
      jobs?.forEach((j, i) => j.resolve(out.slice(i * 64, i * 64 + 64)))
    })
    const fail = (): void => {
      const i = this.workers.indexOf(slot)
      if (i !== -1) this.workers.splice(i, 1)
      for (const jobs of slot.inflight.values()) this.inline(jobs)
      slot.inflight.clear()
    }
    worker.on('error', fail)
    worker.on('exit', fail)
    this.workers.push(slot)
  }

  private inline(jobs: readonly Job[]): void {
    for (const j of jobs) {
      try {
        j.resolve((this.keys ? this.keys.get(j.seed) : keyPairFromSeed(j.seed)).sign(j.data))
      } catch (err) {
        j.reject(err)
      }
    }
  }

  /** Ed25519 signature of `data` with the key of the 32-byte `seed`. */
  sign(seed: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      this.queue.push({ seed, data, resolve, reject })
      if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => this.flush())
      }
    })
  }

  private flush(): void {
    this.scheduled = false
    const batch = this.queue
    this.queue = []
    for (let start = 0; start < batch.length; start += MAX_BATCH) {
      const jobs = batch.slice(start, start + MAX_BATCH)
      const slot = this.workers.reduce<(typeof this.workers)[number] | undefined>(
        (best, s) => (best === undefined || s.inflight.size < best.inflight.size ? s : best),
        undefined,
      )
      if (slot === undefined || this.closed || (jobs.length === 1 && slot.inflight.size === 0)) {
        this.inline(jobs)
        continue
      }
      const id = this.nextId++
      slot.inflight.set(id, jobs)
      const buffer = pack(jobs)
      slot.worker.postMessage({ id, count: jobs.length, buffer }, [buffer])
    }
  }

  /** Stop the workers (pending jobs are signed on the calling thread). */
  async close(): Promise<void> {
    this.closed = true
    this.flush()
    await Promise.all(this.workers.splice(0).map((s) => s.worker.terminate()))
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
