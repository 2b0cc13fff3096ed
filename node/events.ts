/**
 * Typed node events (`data` by event name: `NodeEventData`, node/core/event-data.ts). Every face that shows live state (the WebSocket stream,
 * the dashboard, tests) listens here; events are emitted only after the
 * state change they describe has committed.
 */
import { EventEmitter } from 'node:events'
import type { NodeEvent, NodeEventData, NodeEventType } from './core/event-data.js'

export type { NodeEvent, NodeEventData, NodeEventType } from './core/event-data.js'

/** A typed emitter of `NodeEvent`s on the single channel 'event'. */
export class NodeEvents {
  private readonly emitter = new EventEmitter()
  private held: NodeEvent[] | undefined

  constructor() {
    this.emitter.setMaxListeners(1000)
  }

  /** Emit an event now (or, inside `deferred`, once the deferred work has finished). */
  emit<K extends NodeEventType>(type: K, data: NodeEventData[K], now: number = Date.now()): void {
    const event = { type, timestamp: new Date(now).toISOString(), data } as NodeEvent
    if (this.held !== undefined) this.held.push(event)
    else this.emitter.emit('event', event)
  }

  /**
   * Run `fn` holding back the events it emits: they are delivered in order
   * after `fn` returns, and dropped if it throws. Wrap a store transaction in
   * it so that listeners hear only of changes that committed. Nested calls
   * join the outermost one.
   */
  deferred<T>(fn: () => T): T {
    if (this.held !== undefined) return fn()
    const { result, events } = this.collect(fn)
    this.release(events)
    return result
  }

  /**
   * Run `fn` holding back the events it emits, and return them instead of
   * delivering them: `release` them once the change they tell of is durable
   * (a group commit, store/transaction.ts); drop them if it is not. Inside
   * `deferred` or `collect`, joins the outer one (and returns no events).
   */
  collect<T>(fn: () => T): { result: T; events: readonly NodeEvent[] } {
    if (this.held !== undefined) return { result: fn(), events: [] }
    const held: NodeEvent[] = []
    this.held = held
    try {
      return { result: fn(), events: held }
    } finally {
      this.held = undefined
    }
  }

  /** Deliver events held back by `collect`, in order. */
  release(events: readonly NodeEvent[]): void {
    for (const event of events) this.emitter.emit('event', event)
  }

  /** Listen to every event; returns a function that stops listening. */
  subscribe(listener: (event: NodeEvent) => void): () => void {
    this.emitter.on('event', listener)
    return () => this.emitter.off('event', listener)
  }
}
