// --proxy-authority (decision 0072): the proxy signs, and sends as Host, a name only its gateway answers
// to. A request signed for one loopback gateway no longer verifies at another host's loopback gateway
// that checks its own name; without the flag every loopback gateway is `127.0.0.1:<port>` (docs/proxy.md).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { proxyFlagsOf } from '../../cli/commands/start-proxy.js'
import { verifyRequestSignature, type HttpRequestLike } from '../../node/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { parseProxyAuthority, startNodeProxy, type NodeProxy } from '../../node/proxy/index.js'
import { codeOf } from '../helpers/error-code.js'
import { startNode, stopAll } from '../helpers/mesh.js'

describe('--proxy-authority <host>[:<port>]', () => {
  it('takes a DNS name with an optional port, lowercased, port 80 left out as in @authority', () => {
    expect(parseProxyAuthority('Gateway.Host-A.example:3001')).toBe('gateway.host-a.example:3001')
    expect(parseProxyAuthority('gw-a:80')).toBe('gw-a')
    expect(parseProxyAuthority('10.1.2.3:3001')).toBe('10.1.2.3:3001')
  })

  it.each([
    'localhost:3001', // every host's own name: the default it replaces
    '127.0.0.1:3001',
    '127.0.0.2',
    '0.0.0.0:1',
    'gw.example:0',
    'gw.example:70000',
    'gw.example:',
    'http://gw.example',
    'gw.example/path',
    'gw_a.example',
    '-gw.example',
    'gw..example',
    '',
    'a'.repeat(300),
    // other spellings of loopback, as URL parsers read them (review 107)
    '0x7f.1:3001',
    '2130706433:3001',
    '0177.0.0.1:3001',
    '0x7f000001:3001',
    '0:3001',
    '0x0:3001',
    '0.0.0:3001',
    'localhost.localdomain:3001',
    'ip6-localhost:3001',
    'gw.localhost:3001',
    '010.1.2.3:3001', // not loopback, but a URL parser reads it as 8.1.2.3
    // what a URL parser takes for an IPv4 address it cannot read (review 110: a bare "Invalid URL", exit 1)
    '256.0.0.1',
    '1.2.3.4.5:3001',
    '99999999999',
    '1e1.2',
    // a host name past 253 characters, with or without a port (review 111)
    `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(65)}`,
    `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}:8080`,
  ])('refuses %j with INVALID_INPUT', (text) => {
    expect(codeOf(() => parseProxyAuthority(text))).toBe('INVALID_INPUT')
  })

  it('meshsig start refuses it without --proxy, and checks it before anything starts', async () => {
    await expect(proxyFlagsOf({ proxyAuthority: 'gw.example:3001' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('--proxy-authority need --proxy'),
    })
    await expect(proxyFlagsOf({ proxy: '4990:3001', proxyAuthority: 'localhost:3001' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    })
    const flags = await proxyFlagsOf({ proxy: '4990:3001', proxyAuthority: 'GW.example:3001' })
    expect(flags?.spec).toEqual({
      listenPort: 4990,
      targetHost: '127.0.0.1',
      targetPort: 3001,
      authority: 'gw.example:3001',
    })
  })
})

interface Arrival {
  readonly request: HttpRequestLike
  readonly host: string | undefined
}

/** A loopback gateway that keeps what it receives (it answers 200; the tests verify). */
async function startRecorder(): Promise<{ server: Server; port: number; got: Arrival[] }> {
  const got: Arrival[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const headers: IncomingHttpHeaders = req.headers
      const body = new Uint8Array(Buffer.concat(chunks))
      got.push({
        request: { method: req.method ?? '', authority: '', path: req.url ?? '/', headers, body },
        host: req.headers.host,
      })
      res.end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as AddressInfo).port, got }
}

describe('a proxy started with an authority of its own', () => {
  let node: MeshNode
  let gateway: Awaited<ReturnType<typeof startRecorder>>
  let proxy: NodeProxy

  beforeAll(async () => {
    node = await startNode()
    gateway = await startRecorder()
    const spec = {
      listenPort: 0,
      targetHost: '127.0.0.1',
      targetPort: gateway.port,
      authority: 'gw.host-a.example:3001',
    }
    proxy = await startNodeProxy(node, spec, { signAsNode: true })
  })

  afterAll(async () => {
    await proxy?.close()
    await new Promise((resolve) => gateway?.server.close(resolve))
    await stopAll([node])
  })

  const verifyAs = (request: HttpRequestLike, authority: string) =>
    verifyRequestSignature(
      { ...request, authority },
      { now: Date.now(), resolveKey: (keyid) => node.signerKey(keyid).publicKey ?? undefined },
    )

  it('signs that authority and sends it as Host; it verifies there and at no loopback address', async () => {
    const res = await fetch(`${proxy.url}/pay?to=bob`, { method: 'POST', body: '{"amount":5}' })
    expect(res.status).toBe(200)
    expect(proxy.authority).toBe('gw.host-a.example:3001')
    const arrival = gateway.got.at(-1)!
    expect(arrival.host).toBe('gw.host-a.example:3001')
    const here = await verifyAs(arrival.request, 'gw.host-a.example:3001')
    expect(here).toMatchObject({ ok: true, signature: { keyid: node.did } })
    // the same bytes, replayed at another host's loopback gateway that checks its own name or address
    for (const elsewhere of ['gw.host-b.example:3001', `127.0.0.1:${gateway.port}`, '127.0.0.1:3001']) {
      expect(await verifyAs(arrival.request, elsewhere)).toMatchObject({
        ok: false,
        error: { code: 'SIGNATURE_INVALID' },
      })
    }
  })

  it('records the authority it signed in the audit log', () => {
    const entries = node.audit.verifiable().entries.filter((e) => e.kind === 'proxy.request')
    expect(entries.at(-1)?.data).toMatchObject({ authority: 'gw.host-a.example:3001', path: '/pay' })
  })

  it('refuses an absolute-form target naming the gateway address instead (400, not forwarded)', async () => {
    const before = gateway.got.length
    const { request } = await import('node:http')
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: proxy.port, method: 'GET', path: `http://127.0.0.1:${gateway.port}/x` },
        (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        },
      )
      req.once('error', reject)
      req.end()
    })
    expect(status).toBe(400)
    expect(gateway.got.length).toBe(before)
  })
})
