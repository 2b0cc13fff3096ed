/**
 * The live event stream on the API's port (`ws://host:port`): on connect a
 * `snapshot` event with the first page of the network state (api/snapshot-page.ts), then every node event as
 * `{type, timestamp, data}` in the order the node emitted them. Upgrades pass
 * the same Host and Origin checks as HTTP requests (no cross-site sockets),
 * and count against the API's rate limit like them (upgrade-gate.ts).
 * At most `stream.maxClients` clients, of which anonymous ones hold at most
 * all but `stream.provenPercent` percent: the rest is kept for clients whose
 * upgrade sends the operator token (not an agent credential: anyone can
 * register an agent and get one), so one local
 * user cannot lock the operator's own subscription out (docs/api.md,
 * decision 0046). Slow clients that fall too far behind are dropped rather
 * than buffered (issue 9, decision 0091): how far a client is behind is what
 * it was sent since the last ping it answered (api/stream-ledger.ts), not
 * `ws.bufferedAmount`, which misses what the kernel holds; a client that would
 * pass `stream.maxBufferedBytes`, or take the stream past
 * `stream.maxTotalBufferedBytes`, is dropped instead of sent to. Each event
 * is encoded once, into one Buffer every client's frame shares. The stream is
 * one-way: a data frame from a client closes it (1008).
 */
import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocket, WebSocketServer, type ServerOptions } from 'ws'
import type { NodeEvent, NodeEvents } from '../node/events.js'
import { DEFAULT_LIMITS, type SnapshotLimits, type StreamLimits } from '../node/limits.js'
import { STREAM_PROTOCOL, VIEW_PROTOCOL_PREFIX } from './dashboard-pass.js'
import type { ResolvedApiOptions } from './options.js'
import { refusalOf } from './security.js'
import { snapshotPage, type SnapshotNode } from './snapshot-page.js'
import { refuseInput, StreamLedger } from './stream-ledger.js'
import type { ApiSnapshotEvent } from './types.js'
import type { UpgradeGate } from './upgrade-gate.js'

/** Paths the stream answers on. */
export const STREAM_PATHS: ReadonlySet<string> = new Set(['/', '/ws', '/events'])
const PING_INTERVAL_MS = 30_000

/**
 * The ws server's options. `maxPendingAutoPongs` (ws ≥ 8.23.0, not in
 * @types/ws 8.18) terminates a client that pings faster than it reads our
 * pongs; the ledger closes one that pings more than
 * `CONTROL_FRAMES_PER_ROUND` times a round however fast it reads (H3-5).
 */
const SERVER_OPTIONS: ServerOptions & { readonly maxPendingAutoPongs: number } = {
  noServer: true,
  maxPayload: 4096,
  perMessageDeflate: false,
  handleProtocols,
  autoPong: true,
  maxPendingAutoPongs: 60,
}

/** What the stream needs from the node. */
export interface StreamNode extends SnapshotNode {
  readonly events: NodeEvents
  /** The node's bounds (node/limits.ts); their defaults when absent. */
  readonly limits?: { readonly stream: StreamLimits; readonly snapshot: SnapshotLimits }
}

/** What the stream reports to the API's metrics. */
export interface StreamHooks {
  /** A slow client was dropped for passing a buffer bound (or closed 1013 before its snapshot). */
  onDrop?(): void
}

/** A running event stream. */
export interface EventStream {
  /** Number of connected clients. */
  clients(): number
  /** Clients dropped so far for passing a buffer bound. */
  dropped(): number
  /** Close every client and stop listening to the node. */
  close(): Promise<void>
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/'
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

/** The stream's first event: the first snapshot page. */
function snapshotEvent(node: SnapshotNode): ApiSnapshotEvent {
  return { type: 'snapshot', timestamp: new Date().toISOString(), data: snapshotPage(node) }
}

/**
 * Send `event` to every open client as one Buffer encoded once (ws frames a
 * Buffer without copying it for an unmasked server frame, so N clients share
 * it); a client the ledger refuses it is dropped instead (decision 0091).
 */
function broadcast(wss: WebSocketServer, ledger: StreamLedger, event: NodeEvent, onDrop: () => void): void {
  if (wss.clients.size === 0) return
  const data = Buffer.from(JSON.stringify(event))
  for (const client of wss.clients) {
    if (client.readyState !== WebSocket.OPEN) continue
    if (ledger.refusal(client, data.length) !== undefined) {
      client.terminate()
      onDrop()
      continue
    }
    client.send(data, { binary: false })
    ledger.sent(client, data.length)
  }
}

/**
 * The subprotocol answered to an upgrade: `meshsig.v1` when offered, else the
 * first one offered that is not a dashboard session (api/dashboard-pass.ts:
 * its secret is never echoed), else none.
 */
function handleProtocols(offered: Set<string>): string | false {
  if (offered.has(STREAM_PROTOCOL)) return STREAM_PROTOCOL
  for (const p of offered) if (!p.startsWith(VIEW_PROTOCOL_PREFIX)) return p
  return false
}

/**
 * Stream slots: at most `maxClients` clients, anonymous ones at most all but
 * `provenPercent` percent of them (rounded up in favour of proven clients).
 */
class Slots {
  readonly #maxClients: number
  readonly #maxAnonymous: number
  #anonymous = 0

  constructor(limits: StreamLimits) {
    this.#maxClients = limits.maxClients
    this.#maxAnonymous = limits.maxClients - Math.ceil((limits.maxClients * limits.provenPercent) / 100)
  }

  /** True when one more client (`proven` or not) finds a slot, `open` clients being connected. */
  free(open: number, proven: boolean): boolean {
    return open < this.#maxClients && (proven || this.#anonymous < this.#maxAnonymous)
  }

  /** Hold an anonymous slot until `ws` closes. */
  holdAnonymous(ws: WebSocket): void {
    this.#anonymous += 1
    ws.once('close', () => (this.#anonymous -= 1))
  }
}

/**
 * A new client: the snapshot first, then whatever the node emits (broadcast).
 * A client whose snapshot the ledger refuses (the stream's total is spent) is
 * closed 1013, try again later; one that sends a data frame is closed 1008.
 */
function greet(ws: WebSocket, node: StreamNode, ledger: StreamLedger, proven: boolean): boolean {
  ledger.open(ws, proven)
  ws.on('pong', (data) => ledger.pong(ws, data))
  ws.on('ping', () => ledger.control(ws))
  ws.on('error', () => ws.terminate())
  ws.on('message', () => refuseInput(ws, 'the stream is one-way'))
  let data: Buffer
  try {
    data = Buffer.from(JSON.stringify(snapshotEvent(node)))
  } catch {
    ws.close(1011, 'snapshot unavailable')
    return true
  }
  if (ledger.refusal(ws, data.length) !== undefined) {
    ws.close(1013, 'stream busy, try again later')
    return false
  }
  ws.send(data, { binary: false })
  ledger.sent(ws, data.length)
  return true
}

/** Run a ledger round each `PING_INTERVAL_MS`: a client that read nothing for a whole round is terminated. */
function startPinger(ledger: StreamLedger): ReturnType<typeof setInterval> {
  const pinger = setInterval(() => ledger.round(), PING_INTERVAL_MS)
  pinger.unref()
  return pinger
}

/**
 * Serve the event stream on `server`'s upgrade requests: after the Host,
 * Origin and path checks, `gate` counts each upgrade against the rate limit
 * and says whether it proves a client (the API's: `Api.upgrades`).
 */
export function attachEventStream(
  server: Server,
  node: StreamNode,
  opts: ResolvedApiOptions,
  gate: UpgradeGate,
  hooks: StreamHooks = {},
): EventStream {
  const limits = node.limits?.stream ?? DEFAULT_LIMITS.stream
  const slots = new Slots(limits)
  let dropped = 0
  const onDrop = (): void => {
    dropped += 1
    hooks.onDrop?.()
  }
  const wss = new WebSocketServer(SERVER_OPTIONS)
  const ledger = new StreamLedger(limits)
  const open = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (socket.destroyed) return
    const proven = gate.proven(req)
    if (!slots.free(wss.clients.size, proven)) return refuse(socket, 503, 'Service Unavailable')
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (!proven) slots.holdAnonymous(ws)
      if (!greet(ws, node, ledger, proven)) onDrop()
    })
  }
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (refusalOf(req, opts) !== undefined) return refuse(socket, 403, 'Forbidden')
    if (!STREAM_PATHS.has(pathOf(req))) return refuse(socket, 404, 'Not Found')
    void gate.admit(req, socket).then((admitted) => (admitted ? open(req, socket, head) : undefined))
  }
  server.on('upgrade', onUpgrade)
  const unsubscribe = node.events.subscribe((event) => broadcast(wss, ledger, event, onDrop))
  const pinger = startPinger(ledger)
  return {
    clients: () => wss.clients.size,
    dropped: () => dropped,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(pinger)
        unsubscribe()
        server.off('upgrade', onUpgrade)
        for (const ws of wss.clients) ws.terminate()
        wss.close(() => resolve())
      }),
  }
}
