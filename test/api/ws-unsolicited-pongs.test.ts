/**
 * A stream client that never reads is dropped by the liveness check even when it sends pongs nobody asked for
 * (docs/api.md, "WebSocket event stream"; decision 0091; attack review H3-2). RFC 6455 lets a client send pongs
 * unasked; only a pong echoing the random payload of the node's outstanding ping proves the client read up to that
 * ping. What to check: a client that writes an empty pong every round but reads nothing (so never sees a ping) is
 * gone after the second pinger round. Before the fix any pong counted and such a client held its slot, and what
 * was queued for it, for good. The pinger's interval is faked here (30 s each), the sockets are real.
 */
import { randomBytes } from 'node:crypto'
import type { Server } from 'node:http'
import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createApi, type Api } from '../../api/app.js'
import { bindApiPort, createApiServer, urlOf } from '../../api/listener.js'
import { attachEventStream, type EventStream } from '../../api/ws-stream.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'

let node: MeshNode
let api: Api
let server: Server
let stream: EventStream
let port: number

beforeAll(async () => {
  node = await startNode()
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
  api = createApi(node, { host: '127.0.0.1', token: randomBytes(32).toString('base64url'), rateLimit: 0 })
  server = createApiServer(api.handler)
  stream = attachEventStream(server, node, api.options, api.upgrades)
  await bindApiPort(server, { host: '127.0.0.1', port: 0 })
  port = Number(new URL(urlOf(server, '127.0.0.1')).port)
}, 60_000)

afterAll(async () => {
  vi.useRealTimers()
  await stream?.close()
  await new Promise<void>((resolve) => {
    server?.close(() => resolve())
    server?.closeAllConnections()
  })
  await api?.close()
  await stopAll([node])
})

/** A masked client frame of `opcode` with an empty payload. */
function emptyFrame(opcode: number): Buffer {
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80]), randomBytes(4)])
}

describe('a stream client that never reads', () => {
  it('is dropped by the liveness check even when it sends pongs nobody asked for', async () => {
    const socket: Socket = connect(port, '127.0.0.1')
    socket.on('error', () => undefined)
    socket.write(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    )
    const head = await new Promise<Buffer>((resolve) => socket.once('data', resolve))
    expect(head.toString('latin1')).toMatch(/^HTTP\/1\.1 101/)
    socket.pause() // never reads again: it never sees a ping
    await waitFor(() => stream.clients() === 1)
    for (let round = 0; round < 3; round++) {
      socket.write(emptyFrame(0xa)) // an unsolicited pong
      await new Promise((resolve) => setTimeout(resolve, 300)) // let the node read it (real timer)
      vi.advanceTimersByTime(30_000) // one pinger round
    }
    // three rounds without reading a single ping: the pinger should have terminated it after the second
    expect(stream.clients()).toBe(0)
    socket.destroy()
  }, 60_000)
})
