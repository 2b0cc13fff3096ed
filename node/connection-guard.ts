/**
 * What the node's listeners do with connections before any request (review
 * 115 F1, decision 0083). Node's HTTP `headersTimeout` and `requestTimeout`
 * start with a request's first byte, so a connection that sends nothing was
 * held for ever: another local user (or, on a mesh WebSocket port bound to
 * the network, any host) could spend the process's file descriptors, after
 * which libuv accepts and at once closes every new connection, the
 * operator's included. Every guarded listener now closes a connection that
 * has not sent a complete request head (or been upgraded) within
 * `SILENT_CONNECTION_MS` of its accept: a one-shot deadline, not an idle
 * timer, so a head trickled a byte at a time does not outlive it (review 118,
 * L2). All of them together hold at most `connectionBudget()` connections (a
 * share of the open-file limit), split between the listener kinds (API,
 * proxy, mesh: `LISTENER_KIND_SHARES`) so that no kind can take another's
 * (review 118, M1); one past its kind's budget is closed at once.
 */
import { readFileSync } from 'node:fs'
import type { IncomingMessage, Server as HttpServer } from 'node:http'
import type { Server as NetServer, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import {
  ASSUMED_FD_LIMIT,
  LISTENER_FD_SHARE,
  LISTENER_KIND_SHARES,
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

/** The kinds of listener, each with a connection pool of its own. */
export type ListenerKind = keyof typeof LISTENER_KIND_SHARES

/** How a listener is guarded: its pool (default: the process's pool of its kind) and its silent-connection deadline (ms). */
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

/** One pool per listener kind, each `LISTENER_KIND_SHARES[kind]` of `budget` (at least `MIN_LISTENER_CONNECTIONS`). */
export function listenerPools(budget: number): Readonly<Record<ListenerKind, ConnectionPool>> {
  const share = (kind: ListenerKind): ConnectionPool =>
    connectionPool(Math.max(MIN_LISTENER_CONNECTIONS, Math.floor(budget * LISTENER_KIND_SHARES[kind])))
  return { api: share('api'), proxy: share('proxy'), mesh: share('mesh') }
}

let shared: Readonly<Record<ListenerKind, ConnectionPool>> | undefined

/** The pool every listener of `kind` in this process shares (its share of `connectionBudget()`, read once). */
export function processPool(kind: ListenerKind): ConnectionPool {
  shared ??= listenerPools(connectionBudget())
  return shared[kind]
}

const deadlines = new WeakMap<Duplex, NodeJS.Timeout>()

/** Start `socket`'s one-shot silent deadline: destroyed (with `reason`) `silentMs` after accept unless lifted. */
function startDeadline(socket: Duplex, silentMs: number, reason?: Error): void {
  const timer = setTimeout(() => socket.destroy(reason), silentMs)
  deadlines.set(socket, timer)
  socket.once('close', () => liftDeadline(socket))
}

/** Lift `socket`'s silent deadline: a complete request head or an upgrade arrived. */
export function liftDeadline(socket: Duplex): void {
  clearTimeout(deadlines.get(socket))
  deadlines.delete(socket)
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
 * Guard an HTTP server's connections: counted in the pool of `kind` (one past
 * its budget is closed at once) and closed `silentMs` after accept unless a
 * complete request head (or upgrade) has arrived by then: a one-shot deadline
 * that bytes do not reset. Node's `headersTimeout`, `requestTimeout` and
 * `keepAliveTimeout` apply from the first request.
 */
export function guardHttpConnections(server: HttpServer, kind: ListenerKind, opts: GuardOptions = {}): void {
  const pool = opts.pool ?? processPool(kind)
  const silentMs = opts.silentMs ?? SILENT_CONNECTION_MS
  server.on('connection', (socket: Socket) => {
    if (admit(socket, pool)) startDeadline(socket, silentMs)
  })
  server.prependListener('request', (req: IncomingMessage) => liftDeadline(req.socket))
  liftOnUpgrade(server)
}

/**
 * Lift the deadline of an upgraded socket, once the server has an 'upgrade'
 * listener of its own (Node treats an upgrade as a plain request while it has
 * none, so one is not added before). Left the only listener (the server's
 * own removed), it closes the socket rather than hold it unanswered.
 */
function liftOnUpgrade(server: HttpServer): void {
  let hooked = false
  const onUpgrade = (_req: IncomingMessage, socket: Duplex): void => {
    liftDeadline(socket)
    if (server.listenerCount('upgrade') === 1) socket.destroy()
  }
  const hook = (event: string | symbol): void => {
    if (event !== 'upgrade' || hooked) return
    hooked = true
    server.off('newListener', hook)
    server.prependListener('upgrade', onUpgrade)
  }
  if (server.listenerCount('upgrade') > 0) hook('upgrade')
  else server.on('newListener', hook)
}

/**
 * Guard a raw TCP server that hands its sockets to an HTTP server of its own
 * (the mesh WebSocket listener of @libp2p/websockets, which waits for a first
 * byte with no deadline): counted in the mesh pool, and destroyed `silentMs`
 * after accept unless its upgrade lifts the deadline first (`liftDeadline`,
 * called by the listener's upgrade hook). Destroyed with an error, so that the
 * listener's wait for a first byte ends (a plain destroy would leave it
 * pending for ever, holding the socket).
 */
export function guardRawConnections(server: NetServer, opts: GuardOptions = {}): void {
  const pool = opts.pool ?? processPool('mesh')
  const silentMs = opts.silentMs ?? SILENT_CONNECTION_MS
  server.on('connection', (socket: Socket) => {
    socket.on('error', () => undefined)
    if (!admit(socket, pool, new Error('too many connections'))) return
    startDeadline(socket, silentMs, new Error('no request within the silent-connection deadline'))
  })
}
