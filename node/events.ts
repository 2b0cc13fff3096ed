/**
 * Typed node events. Every face that shows live state (the WebSocket stream,
 * the dashboard, tests) listens here; events are emitted only after the
 * state change they describe has committed.
 */
import { EventEmitter } from 'node:events'

/** Names of the events a node emits. */
export type NodeEventType =
  | 'agent:registered'
  | 'agent:rotated'
  | 'agent:revoked'
  | 'key:duplicity'
  | 'message:signed'
  | 'message:received'
  | 'message:rejected'
  | 'connection:established'
  | 'peer:connected'
  | 'peer:disconnected'
  | 'audit:checkpoint'

/** One event as the WebSocket stream carries it: `{type, timestamp, data}`. */
export interface NodeEvent {
  readonly type: NodeEventType
  /** ISO 8601 time the node emitted it. */
  readonly timestamp: string
  readonly data: Record<string, unknown>
}

/** A typed emitter of `NodeEvent`s on the single channel 'event'. */
export class NodeEvents {
  private readonly emitter = new EventEmitter()

  constructor() {
    this.emitter.setMaxListeners(1000)
  }

  /** Emit an event now. */
  emit(type: NodeEventType, data: Record<string, unknown>, now: number = Date.now()): void {
    const event: NodeEvent = { type, timestamp: new Date(now).toISOString(), data }
    this.emitter.emit('event', event)
  }

  /** Listen to every event; returns a function that stops listening. */
  subscribe(listener: (event: NodeEvent) => void): () => void {
    this.emitter.on('event', listener)
    return () => this.emitter.off('event', listener)
  }
}
