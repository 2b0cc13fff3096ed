/**
 * A pool of worker threads that verify Ed25519 signatures in batches. The
 * event loop gathers the checks of one turn into a single transferred
 * buffer per worker (`[u32 len][data][64 sig][32 key]…`) and gets one byte
 * per check back, so the cost of crossing threads is paid per batch, not per
 * request. A failed worker's checks fall back to the calling thread.
 */
import { Worker } from 'node:worker_threads'
import { verifySignature } from '../node/core/keys.js'
import type { SignatureVerifier } from './verifier.js'

const MAX_BATCH = 256

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads')
const { createPublicKey, verify } = require('node:crypto')
const SPKI = Buffer.from('302a300506032b6570032100', 'hex')
const keys = new Map()
function keyOf(raw) {
  const id = raw.toString('base64')
  let k = keys.get(id)
  if (k === undefined) {
    if (keys.size >= 10000) keys.delete(keys.keys().next().value)
    try { k = createPublicKey({ key: Buffer.concat([SPKI, raw]), format: 'der', type: 'spki' }) } catch { k = null }
    keys.set(id, k)
  }
  return k
}
parentPort.on('message', ({ id, count, buffer }) => {
  const buf = Buffer.from(buffer)
  const out = new Uint8Array(count)
  let o = 0
  for (let i = 0; i < count; i++) {
    const len = buf.readUInt32LE(o); o += 4
    const data = buf.subarray(o, o + len); o += len
    const sig = buf.subarray(o, o + 64); o += 64
    const key = keyOf(buf.subarray(o, o + 32)); o += 32
    try { out[i] = key !== null && verify(null, data, key, sig) ? 1 : 0 } catch { out[i] = 0 }
  }
  parentPort.postMessage({ id, out }, [out.buffer])
})
`

interface Check {
  readonly data: Uint8Array
  readonly signature: Uint8Array
  readonly publicKey: Uint8Array
  resolve(ok: boolean): void
}

interface Slot {
  readonly worker: Worker
  readonly inflight: Map<number, Check[]>
  load: number
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

function inline(checks: readonly Check[]): void {
  for (const c of checks) c.resolve(verifySignature(c.data, c.signature, c.publicKey))
}

/** A verifier backed by worker threads. */
class VerifyPool implements SignatureVerifier {
  private readonly slots: Slot[] = []
  private queue: Check[] = []
  private scheduled = false
  private nextId = 1
  private closed = false

  constructor(size: number) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn())
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_SOURCE, { eval: true })
    worker.unref()
    const slot: Slot = { worker, inflight: new Map(), load: 0 }
    worker.on('message', ({ id, out }: { id: number; out: Uint8Array }) => {
      const checks = slot.inflight.get(id)
      slot.inflight.delete(id)
      if (!checks) return
      slot.load -= checks.length
      checks.forEach((c, i) => c.resolve(out[i] === 1))
    })
    const fail = (): void => {
      const i = this.slots.indexOf(slot)
      if (i !== -1) this.slots.splice(i, 1)
      for (const checks of slot.inflight.values()) inline(checks)
      slot.inflight.clear()
    }
    worker.on('error', fail)
    worker.on('exit', fail)
    return slot
  }

  verify(data: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      if (signature.length !== 64 || publicKey.length !== 32)
        return resolve(verifySignature(data, signature, publicKey))
      this.queue.push({ data, signature, publicKey, resolve })
      if (this.queue.length >= MAX_BATCH) this.flush()
      else if (!this.scheduled) {
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
      const checks = batch.slice(start, start + MAX_BATCH)
      const slot = this.slots.reduce<Slot | undefined>(
        (best, s) => (best === undefined || s.load < best.load ? s : best),
        undefined,
      )
      // a lone check with idle workers is cheaper here than a round trip to a thread
      if (slot === undefined || this.closed || (checks.length === 1 && slot.load === 0)) {
        inline(checks)
        continue
      }
      const id = this.nextId++
      slot.inflight.set(id, checks)
      slot.load += checks.length
      const buffer = pack(checks)
      slot.worker.postMessage({ id, count: checks.length, buffer }, [buffer])
    }
  }

  async close(): Promise<void> {
    this.closed = true
    this.flush()
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()))
  }
}

/** A verifier backed by `size` worker threads (checks of one event-loop turn go as one batch). */
export function createVerifyPool(size: number): SignatureVerifier {
  return new VerifyPool(size)
}
