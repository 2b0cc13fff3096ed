/**
 * What the node's listeners do with connections before any request (review
 * 115 F1, decision 0083). Node's HTTP `headersTimeout` and `requestTimeout`
 * start with a request's first byte, so a connection that sends nothing was
 * held for ever: another local user (or, on a mesh WebSocket port bound to
 * the network, any host) could spend the process's file descriptors, after
 * which libuv accepts and at once closes every new connection, the
 * operator's included. Every guarded listener now closes a connection that
 * has not sent a complete request head within `SILENT_CONNECTION_MS`, and all
 * of them together hold at most `connectionBudget()` connections (a share of
 * the open-file limit); one past it is closed at once.
 */
import { readFileSync } from 'node:fs'
import type { IncomingMessage, Server as HttpServer } from 'node:http'
import type { Server as NetServer, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import {
  ASSUMED_FD_LIMIT,
  LISTENER_FD_SHARE,
  MAX_LISTENER_CONNECTIONS,
  MIN_LISTENER_CONNECTIONS,
  SILENT_CONNECTION_MS,
} from './limits.js'

/** Connections that listeners sharing it hold now, and the most they may hold together. */
export interface ConnectionPool {
  readonly budget: number
  /** Connections open now. */
  open: number
}

/** How a listener is guarded: its pool (default: the process's) and its silent-connection deadline (ms). */
export interface GuardOptions {
  readonly pool?: ConnectionPool
  readonly silentMs?: number
}

/**
 * The soft limit on this process's open files, read from `limitsText` (default
 * `/proc/self/limits`); undefined where it cannot be read.
 */
export function fdLimit(limitsText?: string): number | undefined {
  let text = limitsText
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8')
    } catch {
      return undefined
    }
  }
  const soft = /^Max open files\s+(\d+|unlimited)\s/m.exec(text)?.[1]
  if (soft === undefined) return undefined
  return soft === 'unlimited' ? Number.POSITIVE_INFINITY : Number(soft)
}

/** The connections the listeners may hold together under an open-file limit of `limit`. */
export function connectionBudget(limit: number = fdLimit() ?? ASSUMED_FD_LIMIT): number {
  const share = Math.floor(limit * LISTENER_FD_SHARE)
  return Math.max(MIN_LISTENER_CONNECTIONS, Math.min(MAX_LISTENER_CONNECTIONS, share))
}

/** A pool of at most `budget` connections. */
export function connectionPool(budget: number): ConnectionPool {
  return { budget, open: 0 }
}

let shared: ConnectionPool | undefined

/** The pool every listener of this process shares (its budget: `connectionBudget()`, read once). */
export function processPool(): ConnectionPool {
  shared ??= connectionPool(connectionBudget())
  return shared
}

/**
 * Count `socket` in `pool` until it closes; false (and the socket destroyed
 * with `reason`, when given) when the pool is full.
 */
function admit(socket: Duplex, pool: ConnectionPool, reason?: Error): boolean {
  if (pool.open >= pool.budget) {
    socket.destroy(reason)
    return false
  }
  pool.open++
  socket.once('close', () => pool.open--)
  return true
}

/**
 * Guard an HTTP server's connections: counted in the pool (one past its budget
 * is closed at once) and closed when silent for `silentMs` before their first
 * request. The deadline is the socket's idle timer, which Node's own timeout
 * handler acts on by destroying the socket; the first request lifts it
 * (Node's `headersTimeout`, `requestTimeout` and `keepAliveTimeout` apply
 * from then), and a WebSocket upgrade keeps it harmless (Node drops its
 * timeout handler from an upgraded socket, and `ws` clears the timer).
 */
export function guardHttpConnections(server: HttpServer, opts: GuardOptions = {}): void {
  const pool = opts.pool ?? processPool()
  const silentMs = opts.silentMs ?? SILENT_CONNECTION_MS
  server.on('connection', (socket: Socket) => {
    if (admit(socket, pool)) socket.setTimeout(silentMs)
  })
  server.prependListener('request', (req: IncomingMessage) => req.socket.setTimeout(0))
}

/**
 * Guard a raw TCP server that hands its sockets to an HTTP server of its own
 * (the mesh WebSocket listener of @libp2p/websockets, which waits for a first
 * byte with no deadline): counted in the pool, and destroyed when idle for
 * `silentMs` until `ws` takes the socket over on upgrade (it clears the timer).
 * Destroyed with an error, so that the listener's wait for a first byte ends
 * (a plain destroy would leave it pending for ever, holding the socket).
 */
export function guardRawConnections(server: NetServer, opts: GuardOptions = {}): void {
  const pool = opts.pool ?? processPool()
  const silentMs = opts.silentMs ?? SILENT_CONNECTION_MS
  server.on('connection', (socket: Socket) => {
    socket.on('error', () => undefined)
    if (!admit(socket, pool, new Error('too many connections'))) return
    socket.setTimeout(silentMs, () => socket.destroy(new Error('no request within the silent-connection deadline')))
  })
}
