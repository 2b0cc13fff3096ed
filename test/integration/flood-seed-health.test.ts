/**
 * Remote bodies are read with a size cap (issue 9): a "seed" whose /health
 * streams hundreds of megabytes, with or without a Content-Length, is
 * refused through POST /peers/connect with PEER_ERROR after at most the
 * configured `remoteBodyBytes`; the node stops reading (the seed could hand
 * only a few socket buffers more to the kernel) and nothing changes.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectNo500, startApi, type ApiFixture } from '../api/api-fixture.js'

const CAP = 32 * 1024
const HUGE = 600 * 1024 * 1024
const CHUNK = Buffer.alloc(64 * 1024, 0x20)

let fx: ApiFixture
let seed: Server
let port = 0
/** Bytes the seed handed to its socket, per request, once the socket closed. */
const written: number[] = []
/** Whether the seed declares its (huge) Content-Length. */
let declare = false

/** Stream `HUGE` bytes of JSON-looking padding, honouring backpressure, until the client goes away. */
function flood(res: import('node:http').ServerResponse): void {
  if (declare) res.setHeader('content-length', String(HUGE))
  res.writeHead(200, { 'content-type': 'application/json' })
  res.write('{"peerId":"')
  let sent = 11
  let open = true
  res.on('close', () => {
    open = false
    written.push(sent)
  })
  const pump = (): void => {
    while (open && sent < HUGE) {
      sent += CHUNK.length
      if (!res.write(CHUNK)) return void res.once('drain', pump)
    }
    if (open) res.end('"}')
  }
  pump()
}

beforeAll(async () => {
  fx = await startApi({}, {}, { init: { limits: { remoteBodyBytes: CAP } } })
  seed = createServer((_req, res) => flood(res))
  await new Promise<void>((resolve) => seed.listen(0, '127.0.0.1', resolve))
  port = (seed.address() as AddressInfo).port
}, 60_000)

afterAll(async () => {
  expectNo500(fx)
  seed?.closeAllConnections()
  await new Promise((resolve) => seed?.close(resolve))
  await fx?.stop()
})

describe('a seed whose /health never ends', () => {
  it('is refused with PEER_ERROR after at most the cap, streamed (no Content-Length)', async () => {
    const peersBefore = fx.node.peers().length
    const r = await fx.call('POST', '/peers/connect', { address: `ws://127.0.0.1:${port}` })
    expect(r.status).toBe(502)
    expect(r.body.code).toBe('PEER_ERROR')
    await expect.poll(() => written.length, { timeout: 15_000 }).toBe(1)
    expect(written[0]!).toBeLessThan(16 * 1024 * 1024) // a few socket buffers past the cap, never 600 MB
    expect(fx.node.peers().length).toBe(peersBefore)
  })

  it('is refused before reading when it declares a Content-Length over the cap', async () => {
    declare = true
    const r = await fx.call('POST', '/peers/connect', { address: `http://127.0.0.1:${port}` })
    expect(r.status).toBe(502)
    expect(r.body.code).toBe('PEER_ERROR')
  })
})
