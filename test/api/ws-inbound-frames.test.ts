/**
 * The event stream is one-way: a client that sends data frames is closed (1008) instead of having them parsed
 * and ignored (docs/api.md, "WebSocket event stream"; decision 0091; attack review H3-5: one anonymous upgrade
 * sent 11.8 M one-byte frames in 10 s and held the node's main thread at 102 % of a core).
 *
 * What to check: one anonymous client writes 200,000 one-byte text frames (1.4 MB), then a ping; the node closes
 * it rather than reading through them all and answering the ping.
 */
import { randomBytes } from 'node:crypto'
import type { Server } from 'node:http'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApi, type Api } from '../../api/app.js'
import { bindApiPort, createApiServer, urlOf } from '../../api/listener.js'
import { attachEventStream, type EventStream } from '../../api/ws-stream.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'

const FRAMES = 200_000
let node: MeshNode
let api: Api
let server: Server
let stream: EventStream
let port: number

beforeAll(async () => {
  node = await startNode()
  api = createApi(node, { host: '127.0.0.1', token: randomBytes(32).toString('base64url') })
  server = createApiServer(api.handler)
  stream = attachEventStream(server, node, api.options, api.upgrades)
  await bindApiPort(server, { host: '127.0.0.1', port: 0 })
  port = Number(new URL(urlOf(server, '127.0.0.1')).port)
}, 60_000)

afterAll(async () => {
  await stream?.close()
  await new Promise<void>((resolve) => {
    server?.close(() => resolve())
    server?.closeAllConnections()
  })
  await api?.close()
  await stopAll([node])
})

describe('frames a stream client sends', () => {
  it('close the client: the stream is one-way', async () => {
    const socket = connect(port, '127.0.0.1')
    socket.on('error', () => undefined)
    let closed = false
    socket.on('close', () => (closed = true))
    socket.write(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    )
    const head = await new Promise<Buffer>((resolve) => socket.once('data', resolve))
    expect(head.toString('latin1')).toMatch(/^HTTP\/1\.1 101/)
    let received = Buffer.alloc(0)
    socket.on('data', (d: Buffer) => (received = Buffer.concat([received, d])))
    const masked = (first: number, payload: number): Buffer => {
      const mask = randomBytes(4)
      return Buffer.concat([Buffer.from([first, 0x81]), mask, Buffer.from([payload ^ mask[0]!])])
    }
    const all = Buffer.concat(Array<Buffer>(FRAMES).fill(masked(0x81, 0x61))) // text frames "a"
    await new Promise<void>((resolve) => socket.write(all, () => resolve()))
    // then a ping "z": its pong (0x8a 0x01 "z") comes once the node has read every frame before it
    socket.write(masked(0x89, 0x7a))
    const ponged = (): boolean => received.includes(Buffer.from([0x8a, 0x01, 0x7a]))
    await waitFor(() => closed || ponged(), { timeout: 30_000 })
    expect(closed || stream.clients() === 0, 'the flooding client is still connected').toBe(true)
    socket.destroy()
  }, 60_000)
})
