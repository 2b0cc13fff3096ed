/**
 * A pool of worker threads that run small CPU jobs (Ed25519 signing or
 * verification) in batches: the jobs of one event-loop turn travel as one
 * transferred buffer per worker, so the cost of crossing threads is paid per
 * batch. A lone job with idle workers runs on the calling thread (cheaper
 * than a round trip), and a failed worker's jobs fall back there too.
 * Threads start with the first batch and stop after `IDLE_STOP_MS` without
 * one (each is a V8 isolate whose heap grew under the load; issue 13), to
 * start again with the next batch.
 */
import { Worker } from 'node:worker_threads'

/** How one kind of job crosses to a worker and back. */
export interface BatchCodec<J, R> {
  /** CommonJS source of the worker: it answers `{id, count, buffer}` with `{id, out}`. */
  readonly source: string
  /** Pack a batch of jobs into one buffer for the worker. */
  pack(jobs: readonly J[]): ArrayBuffer
  /** The result of job `index` in the worker's answer. */
  unpack(out: Uint8Array, index: number): R
  /** Run one job on the calling thread (fallback; may throw). */
  inline(job: J): R
}

interface Pending<J, R> {
  readonly job: J
  resolve(result: R): void
  reject(err: unknown): void
}

interface Slot<J, R> {
  readonly worker: Worker
  readonly inflight: Map<number, Pending<J, R>[]>
  load: number
}

/** Most jobs sent to a worker in one message. */
export const MAX_WORKER_BATCH = 256

/** A pool's threads stop after this long without a batch (ms); the next batch starts them again. */
export const IDLE_STOP_MS = 30_000

/** Batches jobs onto `size` worker threads. */
export class BatchWorkerPool<J, R> {
  private readonly slots: Slot<J, R>[] = []
  private queue: Pending<J, R>[] = []
  private scheduled = false
  private nextId = 1
  private closed = false
  private started = false
  private lastBatch = 0
  private idleTimer: NodeJS.Timeout | undefined

  /**
   * Threads start on first use (a batch of more than one job), not with the
   * node: start-up stays fast. They stop after `idleStopMs` without a batch.
   */
  constructor(
    private readonly size: number,
    private readonly codec: BatchCodec<J, R>,
    private readonly idleStopMs = IDLE_STOP_MS,
  ) {}

  private startThreads(): void {
    this.started = true
    for (let i = 0; i < this.size; i++) this.slots.push(this.spawn())
    this.armIdleStop(this.idleStopMs)
  }

  private armIdleStop(ms: number): void {
    this.idleTimer = setTimeout(() => this.stopIfIdle(), ms)
    this.idleTimer.unref()
  }

  /** Terminate the threads when no batch came for `idleStopMs` and none is in flight; check again later otherwise. */
  private stopIfIdle(): void {
    this.idleTimer = undefined
    if (this.closed || !this.started) return
    const quiet = Date.now() - this.lastBatch
    const busy = this.slots.some((s) => s.inflight.size > 0)
    if (quiet < this.idleStopMs || busy) return this.armIdleStop(Math.max(this.idleStopMs - quiet, 100))
    this.started = false
    for (const s of this.slots.splice(0)) void s.worker.terminate()
  }

  private spawn(): Slot<J, R> {
    const worker = new Worker(this.codec.source, { eval: true })
    worker.unref()
    const slot: Slot<J, R> = { worker, inflight: new Map(), load: 0 }
    worker.on('message', ({ id, out }: { id: number; out: Uint8Array }) => {
      const jobs = slot.inflight.get(id)
      slot.inflight.delete(id)
      if (!jobs) return
      slot.load -= jobs.length
      jobs.forEach((p, i) => p.resolve(this.codec.unpack(out, i)))
    })
    const fail = (): void => {
      const i = this.slots.indexOf(slot)
      if (i !== -1) this.slots.splice(i, 1)
      for (const jobs of slot.inflight.values()) this.runInline(jobs)
      slot.inflight.clear()
    }
    worker.on('error', fail)
    worker.on('exit', fail)
    return slot
  }

  private runInline(jobs: readonly Pending<J, R>[]): void {
    for (const p of jobs) {
      try {
        p.resolve(this.codec.inline(p.job))
      } catch (err) {
        p.reject(err)
      }
    }
  }

  /** Run one job; its batch leaves at the end of this event-loop turn (or when full). */
  run(job: J): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ job, resolve, reject })
      if (this.queue.length >= MAX_WORKER_BATCH) this.flush()
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
    for (let start = 0; start < batch.length; start += MAX_WORKER_BATCH) {
      const jobs = batch.slice(start, start + MAX_WORKER_BATCH)
      if (!this.started && !this.closed && jobs.length > 1) this.startThreads()
      const slot = this.slots.reduce<Slot<J, R> | undefined>(
        (best, s) => (!best || s.load < best.load ? s : best),
        undefined,
      )
      if (slot === undefined || this.closed || (jobs.length === 1 && slot.load === 0)) {
        this.runInline(jobs)
        continue
      }
      const id = this.nextId++
      this.lastBatch = Date.now()
      slot.inflight.set(id, jobs)
      slot.load += jobs.length
      const buffer = this.codec.pack(jobs.map((p) => p.job))
      slot.worker.postMessage({ id, count: jobs.length, buffer }, [buffer])
    }
  }

  /** Worker threads alive now (0 before the first batch, after `idleStopMs` without one and after `close`). */
  threads(): number {
    return this.slots.length
  }

  /** Stop the workers; jobs still queued run on the calling thread. */
  async close(): Promise<void> {
    this.closed = true
    clearTimeout(this.idleTimer)
    this.flush()
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()))
  }
}
