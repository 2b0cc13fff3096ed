/**
 * The API port bound before the node behind it is built (issue 13: nothing
 * slow on the path to listening). `meshsig start` binds the port first — a
 * port in use fails at once — and answers `GET /health` with `"mesh":
 * "starting"` (docs/api.md, `GET /health`) while the store, the services,
 * the API and libp2p load. Every other request (and WebSocket upgrade)
 * waits, parked, until the full API takes over (`serve`), and is then
 * answered by it exactly as later requests are; at most `MAX_PARKED` wait,
 * more are answered 429 `RATE_LIMITED` with Retry-After (docs/api.md,
 * security: rate limit). Light on purpose: no Express, no node services.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import type { NodeConfig } from '../node/config.js'
import { guardHttpConnections, type GuardOptions } from '../node/connection-guard.js'
import { MeshsigError } from '../node/core/errors.js'
import type { ResolvedApiOptions } from './options.js'
import { refusalOf } from './security.js'
import { answerTokenChallenge } from './token-proof.js'

/** Most requests parked while the node is being built; more get 429. */
export const MAX_PARKED = 1024

/** A bound API port whose full handler comes later. */
export interface ApiListener {
  readonly server: Server
  /** Base URL, e.g. `http://127.0.0.1:4888`. */
  readonly url: string
  /**
   * Hand every request, the parked ones first, to `handler`; parked upgrades
   * are emitted again for the 'upgrade' listener attached by then.
   */
  serve(handler: RequestListener): void
  /** Answer parked requests 429, drop parked upgrades, close connections and the port. */
  close(): Promise<void>
}

/** What the early `/health` answers with (the node's public facts, `mesh: "starting"`). */
export type EarlyHealth = () => unknown

const BUSY = JSON.stringify({
  error: 'the node is starting and too many requests are waiting; try again in a moment',
  code: 'RATE_LIMITED',
  retryAfter: 1,
})

function json(res: ServerResponse, status: number, text: string): void {
  res.statusCode = status
  res.setHeader('Content-Type', 'application/json; charset=utf-8')
  res.setHeader('Content-Length', Buffer.byteLength(text))
  if (status === 429) res.setHeader('Retry-After', '1')
  res.end(text)
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

/**
 * Requests Node's HTTP parser refuses before any handler runs (a malformed
 * request line, headers over 16 KiB) get the API's error shape too, not an
 * empty 400/431, and the connection is closed.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || (err.code === 'ECONNRESET' && socket.destroyed)) {
    socket.destroy()
    return
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW'
  const body = JSON.stringify({
    error: tooLarge ? 'request headers are too large' : 'malformed HTTP request',
    code: 'INVALID_INPUT',
  })
  const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  )
}

/**
 * An HTTP server with the API's timeouts, its answer to requests the parser
 * refuses, and the listeners' connection guard (node/connection-guard.ts:
 * a connection silent before its first request is closed, and the pool of
 * connections is bounded; `guard` overrides both for tests).
 */
export function createApiServer(listener: RequestListener, guard?: GuardOptions): Server {
  const server = createServer(listener)
  server.headersTimeout = 20_000
  server.requestTimeout = 30_000
  server.keepAliveTimeout = 5_000
  server.on('clientError', answerClientError)
  guardHttpConnections(server, 'api', guard)
  return server
}

/** The base URL of a listening server bound to `host`. */
export function urlOf(server: Server, host: string): string {
  const { port } = server.address() as AddressInfo
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`
}

/** Bind `config.host:config.port`; throws `INVALID_INPUT` naming the port and `--port` when it cannot. */
export async function bindApiPort(server: Server, config: Pick<NodeConfig, 'host' | 'port'>): Promise<void> {
  try {
    await listen(server, config.port, config.host)
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message
    const hint = reason === 'EADDRINUSE' ? ' (address in use; choose another port with --port)' : ''
    throw new MeshsigError('INVALID_INPUT', `cannot listen on ${config.host}:${config.port}: ${reason}${hint}`)
  }
}

/**
 * Bind the API port now and answer `GET /health` with `health()` (Host and
 * Origin checked as always) until `serve` hands everything to the full API.
 */
export async function listenApi(
  config: Pick<NodeConfig, 'host' | 'port'>,
  opts: ResolvedApiOptions,
  health: EarlyHealth,
): Promise<ApiListener> {
  let handler: RequestListener | undefined
  let parked: [IncomingMessage, ServerResponse][] = []
  let upgrades: [IncomingMessage, Duplex, Buffer][] = []
  const early: RequestListener = (req, res) => {
    if (handler !== undefined) return handler(req, res)
    const path = (req.url ?? '').split('?')[0]
    if (req.method === 'GET' && path === '/health' && refusalOf(req, opts) === undefined) {
      answerTokenChallenge(req, res, opts.token)
      return json(res, 200, JSON.stringify(health()))
    }
    if (parked.length + upgrades.length >= MAX_PARKED) return json(res, 429, BUSY)
    parked.push([req, res])
  }
  const parkUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (parked.length + upgrades.length >= MAX_PARKED) socket.destroy()
    else upgrades.push([req, socket, head])
  }
  const server = createApiServer(early)
  server.on('upgrade', parkUpgrade)
  await bindApiPort(server, config)
  return {
    server,
    url: urlOf(server, config.host),
    serve: (h) => {
      handler = h
      server.off('upgrade', parkUpgrade)
      const [waiting, waitingUpgrades] = [parked, upgrades]
      ;[parked, upgrades] = [[], []]
      for (const [req, res] of waiting) if (!res.writableEnded && !req.destroyed) h(req, res)
      for (const [req, socket, head] of waitingUpgrades)
        if (!socket.destroyed) server.emit('upgrade', req, socket, head)
    },
    close: async () => {
      for (const [, res] of parked) json(res, 429, BUSY)
      for (const [, socket] of upgrades) socket.destroy()
      ;[parked, upgrades] = [[], []]
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
}
