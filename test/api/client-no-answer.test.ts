/**
 * What the SDK client reports when a node gives no answer (api/client-http.ts):
 * `UNREACHABLE` with `noConnection` only when no connection could be made
 * (nothing listens: the one case `meshsig verify` may fall back on);
 * `TIMEOUT` when a server took the connection and did not answer in time
 * (before its headers or in the middle of its body); `UNREACHABLE` without
 * `noConnection` when it broke the connection off (attack review 61: a slow
 * node is not "no node").
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MeshsigClient, noConnection } from '../../api/client.js'
import { freePort } from '../helpers/node-process.js'

let server: Server
let base = ''

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/stall-body/health') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"status":') // and never the rest
      return
    }
    if (req.url === '/reset/health') {
      req.socket.destroy()
      return
    }
    // '/hang/health': the connection is taken, no answer comes
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise<void>((r) => server.close(() => r()))
})

async function failure(server: string): Promise<{ code?: string; noConnection: boolean; message: string }> {
  const err = await new MeshsigClient({ server, timeoutMs: 400 }).health().then(
    () => undefined,
    (e: unknown) => e as { code?: string; message: string },
  )
  expect(err).toBeDefined()
  return { code: err!.code, noConnection: noConnection(err), message: err!.message }
}

describe('the SDK client when no answer comes', () => {
  it('nothing listens (connection refused): UNREACHABLE, noConnection', async () => {
    expect(await failure(`http://127.0.0.1:${await freePort()}`)).toMatchObject({
      code: 'UNREACHABLE',
      noConnection: true,
    })
  })

  it('a port fetch never connects to: UNREACHABLE, noConnection', async () => {
    expect(await failure('http://127.0.0.1:1')).toMatchObject({ code: 'UNREACHABLE', noConnection: true })
  })

  it('the connection is taken and no answer comes in time: TIMEOUT, not UNREACHABLE', async () => {
    const r = await failure(`${base}/hang`)
    expect(r).toMatchObject({ code: 'TIMEOUT', noConnection: false })
    expect(r.message).toContain('did not answer within 400 ms')
  })

  it('the headers come and the body stalls: TIMEOUT', async () => {
    expect(await failure(`${base}/stall-body`)).toMatchObject({ code: 'TIMEOUT', noConnection: false })
  })

  it('the connection is broken off: UNREACHABLE without noConnection', async () => {
    expect(await failure(`${base}/reset`)).toMatchObject({ code: 'UNREACHABLE', noConnection: false })
  })
})
