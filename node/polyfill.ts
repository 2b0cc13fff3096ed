/**
 * Node 20 lacks two globals that libp2p 3 relies on: `Promise.withResolvers`
 * (ES2024) and a global `WebSocket` (Node 22). Every entry point imports this
 * module first; on Node 22+ it changes nothing.
 */
import { WebSocket as WsWebSocket } from 'ws'

interface WithResolvers<T> {
  promise: Promise<T>
  resolve: (value: T | PromiseLike<T>) => void
  reject: (reason?: unknown) => void
}

const promiseCtor = Promise as unknown as { withResolvers?: <T>() => WithResolvers<T> }
if (typeof promiseCtor.withResolvers !== 'function') {
  promiseCtor.withResolvers = function withResolvers<T>(): WithResolvers<T> {
    let resolve!: WithResolvers<T>['resolve']
    let reject!: WithResolvers<T>['reject']
    const promise = new Promise<T>((res, rej) => {
      resolve = res
      reject = rej
    })
    return { promise, resolve, reject }
  }
}

const g = globalThis as { WebSocket?: unknown }
if (typeof g.WebSocket === 'undefined') {
  g.WebSocket = WsWebSocket
}

/** True once the polyfills are in place (for tests and diagnostics). */
export const polyfilled = true
