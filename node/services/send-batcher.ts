/**
 * Group commit for sends. Every acknowledged message is durable (the store
 * runs synchronous=FULL), and one fsync costs far more than checking and
 * signing a message; so the sends that arrive in one event-loop turn are
 * checked one by one (each in its own savepoint, exactly as alone) inside
 * ONE transaction, and each caller is answered only after that transaction
 * has committed. Events are held back until the commit too.
 */
import type { NodeEvents } from '../events.js'
import type { Store } from '../store/index.js'

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
  /** One transaction per batch. */
  readonly store: Pick<Store, 'transaction'>
  /** Events held back until the batch has committed. */
  readonly events: Pick<NodeEvents, 'deferred'>
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
    let outcomes: Outcome<O>[]
    try {
      outcomes = this.c.events.deferred(() => this.c.store.transaction(() => batch.map((p) => this.one(p.input))))
    } catch (err) {
      for (const p of batch) p.reject(err)
      return
    }
    outcomes.forEach((o, i) => {
      const p = batch[i]!
      if (o.ok) p.resolve(o.value)
      else p.reject(o.error)
    })
  }

  private one(input: I): Outcome<O> {
    try {
      return { ok: true, value: this.c.send(input) }
    } catch (error) {
      return { ok: false, error }
    }
  }
}
