/**
 * The node-wide turn of registry sync rounds (docs/protocol.md §9): one round
 * pulls at a time, so a join pulls the registry once, not from every peer at
 * once. The turn is lent in slices: once a round has held it for a slice and
 * another round waits, the round ends its pass at the next exchange and
 * queues again, so no peer holds the turn for long, however slowly it answers.
 *
 * One round at a time is the **lead**: the first whose slice brought
 * something new while no other led. Its slices last `LEAD_SLICES` slices
 * while they bring something, and only rounds in the queue interrupt it, for
 * one slice each: so a join goes on almost as if alone (other peers' rounds,
 * which would pull the same registry, mostly wait for its end), a round that
 * only takes time gets one short slice at a time, and a new round waits for
 * one slice of each round queued before it, not for whole rounds.
 */

/** Default slice of the turn one round holds while others wait (ms). */
export const SLICE_MS = 5_000
/** A lead round's slice that brings something new lasts this many slices. */
export const LEAD_SLICES = 6

/** A round's hold on the node-wide turn. */
export interface TurnSlice {
  /**
   * True when the round should end its pass: its slice is over and another
   * round waits. `progress`: the slice brought something new so far (a lead
   * round's slice then lasts `LEAD_SLICES` slices, and only queued rounds
   * interrupt it).
   */
  due(progress: boolean): boolean
  /**
   * Give the turn to the next round and wait for it again. `progress`: the
   * slice brought something new, so the round leads if none does; a lead
   * round gets the turn back after one queued round's slice. Otherwise it
   * queues behind the others. False: the turns stopped, the round should end.
   */
  requeue(progress: boolean): Promise<boolean>
  /** Time this round has held the turn, over all its slices (ms). */
  heldMs(): number
}

/** What the turn needs. */
export interface SyncTurnsComponents {
  /** Slice one round holds while others wait (ms, default `SLICE_MS`). */
  readonly sliceMs?: number
  /** Monotonic enough time (ms, default `Date.now`). */
  readonly clock?: () => number
}

/** A round holding or waiting for the turn. */
interface Holder {
  wake?: () => void
}

/** The node-wide turn, lent in slices: a lead round, and a queue of the others. */
export class SyncTurns {
  private holder: Holder | undefined
  private lead: Holder | undefined
  private leadWaits = false
  private stopped = false
  private readonly queue: Holder[] = []

  constructor(private readonly c: SyncTurnsComponents = {}) {}

  private now(): number {
    return (this.c.clock ?? Date.now)()
  }

  /** Rounds waiting for the turn. */
  get waiting(): number {
    return this.queue.length + (this.leadWaits ? 1 : 0)
  }

  /** Run `work` holding the turn, lent in slices; the turn passes on when it ends, thrown or not. */
  async run<T>(work: (slice: TurnSlice) => Promise<T>): Promise<T> {
    const me: Holder = {}
    await this.acquire(me, false)
    const sliceMs = this.c.sliceMs ?? SLICE_MS
    let since = this.now()
    let before = 0
    const slice: TurnSlice = {
      due: (progress) => {
        const leading = this.lead === me && progress
        const others = leading ? this.queue.length : this.waiting
        return others > 0 && this.now() - since >= sliceMs * (leading ? LEAD_SLICES : 1)
      },
      requeue: async (progress) => {
        before += this.now() - since
        if (this.lead === me && !progress) this.lead = undefined
        const leads = progress && (this.lead === undefined || this.lead === me)
        this.release(me)
        if (leads) this.lead = me
        await this.acquire(me, leads)
        since = this.now()
        return !this.stopped
      },
      heldMs: () => before + this.now() - since,
    }
    try {
      return await work(slice)
    } finally {
      if (this.lead === me) this.lead = undefined
      this.release(me)
    }
  }

  /** Rounds that queue again from now on are told to end (node/lifecycle.ts); the turn itself still passes on. */
  stop(): void {
    this.stopped = true
  }

  /** Rounds may queue again. */
  start(): void {
    this.stopped = false
  }

  private acquire(me: Holder, leads: boolean): Promise<void> {
    if (this.holder === undefined && this.waiting === 0) {
      this.holder = me
      return Promise.resolve()
    }
    return new Promise<void>((resolve) => {
      me.wake = resolve
      if (leads) this.leadWaits = true
      else this.queue.push(me)
    })
  }

  /**
   * Pass the turn on from `me`: the lead round gives it to the first queued
   * round, any other gives it back to the waiting lead, else to the queue.
   */
  private release(me: Holder): void {
    const fromLead = this.lead === me
    const next = !fromLead && this.leadWaits && this.lead !== undefined ? this.lead : this.queue.shift()
    if (next === this.lead) this.leadWaits = false
    this.holder = next
    const wake = next?.wake
    if (next !== undefined) next.wake = undefined
    wake?.()
  }
}
