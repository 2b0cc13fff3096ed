/**
 * Group commit for sends and registrations. Every acknowledged write is
 * durable, and one fsync costs far more than checking and signing a
 * message; so the sends that arrive in one event-loop turn are checked one
 * by one (each in its own savepoint, exactly as alone) inside ONE
 * transaction, whose WAL is then synced on the thread pool while the event
 * loop goes on (store/transaction.ts `groupCommit`). Each caller is answered,
 * and the batch's events are delivered, only once that sync is done.
 */
import { MeshsigError } from '../core/index.js'
import type { NodeEvent, NodeEvents } from '../events.js'
import type { GroupCommit, Store } from '../store/index.js'

/** Most sends committed in one transaction. */
export const MAX_SEND_BATCH = 256

interface Pending<I, O> {
  readonly input: I
  resolve(value: O): void
  reject(reason: unknown): void
}

type Outcome<O> = { ok: true; value: O } | { ok: false; error: unknown }

/** What the batcher needs. */
export interface SendBatcherComponents<I, O> {
  /** One group commit per batch. */
  readonly store: Pick<Store, 'groupCommit'>
  /** Events held back until the batch is durable. */
  readonly events: Pick<NodeEvents, 'collect' | 'release'>
  /** Check and store one send (synchronous; throws its MeshsigError). */
  readonly send: (input: I) => O
  readonly maxBatch?: number
}

/** Batches concurrent sends into one durable commit. */
export class SendBatcher<I, O> {
  private queue: Pending<I, O>[] = []
  private scheduled = false

  constructor(private readonly c: SendBatcherComponents<I, O>) {}

  /** Send `input`; resolves once its transaction has committed. */
  send(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, resolve, reject })
      if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => this.flush())
      }
    })
  }

  /** Startable (node/lifecycle.ts): nothing to start, batches form on demand. */
  start(): void {}

  /** Startable: commit what is queued now, before the node closes its store. */
  stop(): void {
    while (this.queue.length > 0) this.flush()
  }

  private flush(): void {
    this.scheduled = false
    const batch = this.queue.splice(0, this.c.maxBatch ?? MAX_SEND_BATCH)
    if (batch.length === 0) return // `stop()` committed it already
    if (this.queue.length > 0) {
      this.scheduled = true
      setImmediate(() => this.flush())
    }
    let committed: { result: GroupCommit<Outcome<O>[]>; events: readonly NodeEvent[] }
    try {
      committed = this.c.events.collect(() => this.c.store.groupCommit(() => batch.map((p) => this.one(p.input))))
    } catch (err) {
      for (const p of batch) p.reject(err)
      return
    }
    const { result, events } = committed
    result.durable.then(
      () => {
        this.c.events.release(events)
        result.result.forEach((o, i) => {
          const p = batch[i]!
          if (o.ok) p.resolve(o.value)
          else p.reject(o.error)
        })
      },
      (cause: unknown) => {
        const err = new MeshsigError('INTERNAL', 'the batch was committed but could not be synced to disk')
        err.cause = cause
        for (const p of batch) p.reject(err)
      },
    )
  }

  private one(input: I): Outcome<O> {
    try {
      return { ok: true, value: this.c.send(input) }
    } catch (error) {
      return { ok: false, error }
    }
  }
}
