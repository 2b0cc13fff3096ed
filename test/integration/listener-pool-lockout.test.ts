/**
 * Attack review 118, M1 and L2 (decision 0083). The API, the proxy listeners and the libp2p mesh WebSocket
 * listener (bound to the network) each count their connections in a pool of their own: a remote host that
 * holds the mesh listener's whole share leaves the operator's loopback API served. And the silent deadline
 * is a one-shot deadline from accept, not an idle timer: a request head trickled one byte at a time does not
 * outlive it. Counts connections and answers, never times.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createServer as createNetServer, connect, type Server as NetServer, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import { createApiServer } from '../../api/listener.js'
import { guardRawConnections, listenerPools, type ConnectionPool } from '../../node/connection-guard.js'
import { waitFor } from '../helpers/wait-for.js'

const SILENT_MS = 300
const BUDGET = 16
const open: (Server | NetServer)[] = []
const sockets: Socket[] = []

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy()
  for (const s of open.splice(0)) {
    if ('closeAllConnections' in s) s.closeAllConnections()
    await new Promise((done) => s.close(done))
  }
})

function listening<T extends Server | NetServer>(server: T): Promise<number> {
  open.push(server)
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done((server.address() as AddressInfo).port)))
}

function client(port: number): { socket: Socket; closed: () => boolean } {
  let closed = false
  const socket = connect(port, '127.0.0.1')
  sockets.push(socket)
  socket.on('error', () => undefined)
  socket.on('close', () => (closed = true))
  return { socket, closed: () => closed }
}

function apiServer(pool: ConnectionPool, silentMs = SILENT_MS): Server {
  return createApiServer((_req, res) => void res.end('ok'), { pool, silentMs })
}

/** The mesh WebSocket listener's TCP server as @libp2p/websockets 10 makes it: paused, waiting for a first byte. */
function meshTcpServer(pool: ConnectionPool): NetServer {
  const server = createNetServer({ pauseOnConnect: true }, () => undefined)
  guardRawConnections(server, { pool, silentMs: 5_000 })
  return server
}

async function operatorGets(port: number, n: number): Promise<number> {
  let ok = 0
  for (let i = 0; i < n; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/stats`, { headers: { connection: 'close' } })
      if (res.status === 200) ok++
    } catch {
      // closed at once by the guard
    }
  }
  return ok
}

describe('listener kinds have pools of their own, and the silent deadline is one-shot', () => {
  it('connections held on the mesh port leave no room for the loopback API', async () => {
    const pools = listenerPools(BUDGET * 2)
    const meshPort = await listening(meshTcpServer(pools.mesh))
    const apiPort = await listening(apiServer(pools.api, 5_000))
    expect(await operatorGets(apiPort, 1)).toBe(1) // before the attack
    // a remote host, on the network-bound mesh port, holds its whole share (and one more, closed at once)
    for (let i = 0; i <= pools.mesh.budget; i++) client(meshPort)
    await waitFor(() => pools.mesh.open === pools.mesh.budget)
    expect(await operatorGets(apiPort, 5)).toBe(5) // the operator's own API calls are all still served
  })

  it('a request head trickled one byte at a time is closed at the silent deadline, not held by every byte', async () => {
    const port = await listening(apiServer(listenerPools(BUDGET).api))
    const { socket, closed } = client(port)
    const head = 'GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ' + 'a'.repeat(40)
    let sent = 0
    // one byte every third of the silent deadline; 30 bytes = 10 deadlines
    await new Promise<void>((done) => {
      const tick = setInterval(() => {
        if (closed() || sent >= 30) {
          clearInterval(tick)
          done()
          return
        }
        socket.write(head[sent++] ?? 'a')
      }, SILENT_MS / 3)
    })
    expect(closed()).toBe(true) // no complete head within the deadline: closed, though it sent bytes throughout
  })
})
