/**
 * The listeners' connection guard (node/connection-guard.ts, decision 0083,
 * review 115 F1): a connection that sends no complete request head within the
 * silent deadline is closed, one past the pool's budget is closed at once, and
 * neither a request the node is still working on nor an upgraded WebSocket is
 * cut. Counts connections and closes, never times.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createServer as createNetServer, connect, type Server as NetServer, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import { createApiServer } from '../../api/listener.js'
import {
  connectionBudget,
  connectionPool,
  fdLimit,
  guardRawConnections,
  listenerPools,
  processPool,
  type ConnectionPool,
} from '../../node/connection-guard.js'
import {
  LISTENER_KIND_SHARES,
  MAX_LISTENER_CONNECTIONS,
  MIN_LISTENER_CONNECTIONS,
  SILENT_CONNECTION_MS,
} from '../../node/limits.js'
import { listenAll, type BoundListeners } from '../../node/proxy/proxy-listeners.js'
import { waitFor } from '../helpers/wait-for.js'

const SILENT_MS = 300
const open: (Server | NetServer | BoundListeners)[] = []
const sockets: Socket[] = []

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy()
  for (const s of open.splice(0)) {
    if ('bound' in s) await s.close()
    else {
      if ('closeAllConnections' in s) s.closeAllConnections()
      await new Promise((done) => s.close(done))
    }
  }
})

function listening<T extends Server | NetServer>(server: T): Promise<number> {
  open.push(server)
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done((server.address() as AddressInfo).port)))
}

/** A client socket to `port` and whether the server has closed it. */
function client(port: number): { socket: Socket; closed: () => boolean } {
  let closed = false
  const socket = connect(port, '127.0.0.1')
  sockets.push(socket)
  socket.on('error', () => undefined)
  socket.on('close', () => (closed = true))
  return { socket, closed: () => closed }
}

/** An API server guarded with `pool` and the short test deadline; `/slow` answers after three deadlines. */
function apiServer(pool: ConnectionPool): Server {
  const server = createApiServer(
    (req, res) => {
      const answer = (): void => void res.end('ok')
      if (req.url === '/slow') setTimeout(answer, 3 * SILENT_MS)
      else answer()
    },
    { pool, silentMs: SILENT_MS },
  )
  server.on('upgrade', (_req, duplex) => {
    const socket = duplex as Socket
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n')
    socket.setTimeout(0) // as ws does
    socket.on('data', (d: Buffer) => socket.write(d))
    socket.on('end', () => socket.end())
  })
  return server
}

describe('connection budget', () => {
  it('reads the soft open-file limit, and keeps a share of it for the listeners', () => {
    const text =
      'Limit                     Soft Limit           Hard Limit           Units\n' +
      'Max open files            512                  4096                 files\n'
    expect(fdLimit(text)).toBe(512)
    expect(fdLimit(text.replace('512 ', 'unlimited '))).toBe(Number.POSITIVE_INFINITY)
    expect(fdLimit('garbage')).toBeUndefined()
    expect(connectionBudget(512)).toBe(256)
    expect(connectionBudget(20_000)).toBe(MAX_LISTENER_CONNECTIONS)
    expect(connectionBudget(Number.POSITIVE_INFINITY)).toBe(MAX_LISTENER_CONNECTIONS)
    expect(connectionBudget(10)).toBe(MIN_LISTENER_CONNECTIONS)
  })

  it('gives the API, the proxy and the mesh listener pools of their own within the budget (review 118, M1)', () => {
    const pools = listenerPools(8_192)
    expect([pools.api.budget, pools.proxy.budget, pools.mesh.budget]).toEqual([2_048, 2_048, 4_096])
    expect(pools.api.budget + pools.proxy.budget + pools.mesh.budget).toBeLessThanOrEqual(8_192)
    expect(Object.values(LISTENER_KIND_SHARES).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1)
    expect(listenerPools(16).api.budget).toBe(MIN_LISTENER_CONNECTIONS)
    expect(new Set([processPool('api'), processPool('proxy'), processPool('mesh')]).size).toBe(3)
    expect(processPool('mesh')).toBe(processPool('mesh'))
  })
})

describe('the API listener', () => {
  it('closes connections past the pool at once, and silent ones after the deadline', async () => {
    const pool = connectionPool(3)
    const port = await listening(apiServer(pool))
    const clients = Array.from({ length: 5 }, () => client(port))
    await waitFor(() => clients.filter((c) => c.closed()).length === 2, { message: 'two closed past the pool' })
    expect(pool.open).toBe(3)
    await waitFor(() => clients.every((c) => c.closed()), { message: 'silent connections closed' })
    expect(pool.open).toBe(0)
  })

  it('does not cut a request the handler is still working on', async () => {
    const port = await listening(apiServer(connectionPool(4)))
    const c = client(port)
    let reply = ''
    c.socket.on('data', (d: Buffer) => (reply += d.toString()))
    c.socket.write('GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    await waitFor(() => reply.includes('ok') || c.closed(), { message: 'answer or close' })
    expect(reply).toMatch(/^HTTP\/1\.1 200/)
  })

  it('does not cut an upgraded connection that stays quiet past the deadline', async () => {
    const pool = connectionPool(4)
    const port = await listening(apiServer(pool))
    const c = client(port)
    let reply = ''
    c.socket.on('data', (d: Buffer) => (reply += d.toString()))
    c.socket.write('GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n')
    await waitFor(() => reply.includes('101'), { message: 'upgraded' })
    // A silent connection opened with it is closed by the deadline; the upgraded one is still open then.
    const silent = client(port)
    await waitFor(() => silent.closed(), { message: 'silent connection closed' })
    await waitFor(() => pool.open === 1, { message: 'silent connection left the pool' })
    c.socket.write('ping')
    await waitFor(() => reply.endsWith('ping') || c.closed(), { message: 'echo' })
    expect(c.closed()).toBe(false)
  })
})

describe('a proxy listener', () => {
  it('answers a request, and closes a silent connection', async () => {
    const listeners = await listenAll([{ label: undefined, port: 0 }], '127.0.0.1', () => (_req, res) => res.end('ok'))
    open.push(listeners)
    const port = listeners.bound[0]?.port ?? 0
    const res = await fetch(`http://127.0.0.1:${port}/`)
    expect(await res.text()).toBe('ok')
    const silent = client(port)
    await waitFor(() => silent.closed(), {
      timeout: 4 * SILENT_CONNECTION_MS,
      message: 'silent proxy connection closed',
    })
  })
})

describe('a raw TCP listener (the mesh WebSocket port)', () => {
  it('closes connections past the pool at once, and silent ones after the deadline', async () => {
    const pool = connectionPool(2)
    // As @libp2p/websockets does: wait for a first byte, with no deadline of its own.
    const server = createNetServer({ pauseOnConnect: true }, (socket) => socket.once('readable', () => undefined))
    guardRawConnections(server, { pool, silentMs: SILENT_MS })
    const port = await listening(server)
    const clients = Array.from({ length: 3 }, () => client(port))
    await waitFor(() => clients.filter((c) => c.closed()).length === 1, { message: 'one closed past the pool' })
    expect(pool.open).toBe(2)
    await waitFor(() => clients.every((c) => c.closed()), { message: 'silent connections closed' })
    expect(pool.open).toBe(0)
  })
})
