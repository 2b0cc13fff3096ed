import { createServer, request as httpRequest, type Server } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApi, type Api } from '../../api/app.js'
import { createMessage, didFromPublicKey, generateKeyPair, toB64, utf8 } from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { randomNonce } from '../../node/sdk.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { expectNo500, rawRequest, startApi, type ApiFixture } from './api-fixture.js'

const json = { 'content-type': 'application/json' }

describe('Host, Origin, CORS and content type', () => {
  let fx: ApiFixture
  beforeAll(async () => {
    fx = await startApi()
  })
  afterAll(async () => {
    expectNo500(fx)
    await fx.stop()
  })

  it.each([
    ['GET', '/health', undefined],
    ['POST', '/agents/register', '{"name":"rebound"}'],
    ['POST', '/verify', '{"message":"m","signature":"x","did":"did:msig:x"}'],
    ['POST', '/messages/send', '{"fromDid":"did:msig:x","toDid":null,"message":"m"}'],
  ])('a foreign Host header (DNS rebinding) is 403 FORBIDDEN: %s %s', async (method, path, body) => {
    const r = await fx.raw({ method, path, headers: { ...json, host: 'evil.example:4888' }, ...(body ? { body } : {}) })
    expect(r.status).toBe(403)
    expect(r.body.code).toBe('FORBIDDEN')
    expect((await fx.call('GET', '/stats')).body.agents).toBe(0)
  })

  it('loopback names are accepted in Host, with or without port', async () => {
    const port = new URL(fx.url).port
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'localhost', 'LOCALHOST']) {
      expect((await fx.raw({ method: 'GET', path: '/health', headers: { host } })).status).toBe(200)
    }
    // no Host at all: Node itself refuses HTTP/1.1 without Host (400) before the API sees it
    expect([400, 403]).toContain((await fx.raw({ method: 'GET', path: '/health', headers: { host: '' } })).status)
  })

  it('a cross-site Origin is refused; same-origin is fine; no CORS headers anywhere', async () => {
    const evil = await fx.raw({
      method: 'POST',
      path: '/agents/register',
      headers: { ...json, origin: 'https://evil.example' },
      body: '{"name":"csrf"}',
    })
    expect(evil.status).toBe(403)
    expect((await fx.raw({ method: 'GET', path: '/stats', headers: { origin: 'null' } })).status).toBe(403)
    // a page served by another program on this host (another port) is another site
    const port = Number(new URL(fx.url).port)
    const otherPort = `http://127.0.0.1:${port === 65535 ? port - 1 : port + 1}`
    const local = await fx.raw({ method: 'POST', path: '/audit/checkpoint', headers: { origin: otherPort } })
    expect([local.status, local.body.code]).toEqual([403, 'FORBIDDEN'])
    const same = await fx.raw({ method: 'GET', path: '/stats', headers: { origin: fx.url } })
    expect(same.status).toBe(200)
    expect(same.headers['access-control-allow-origin']).toBeUndefined()
    const pre = await fx.raw({
      method: 'OPTIONS',
      path: '/agents/register',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    })
    expect(pre.headers['access-control-allow-origin']).toBeUndefined()
    expect(pre.status).toBe(403)
  })

  it.each([
    ['cross-site', 'no-cors', 403],
    ['same-site', 'cors', 403],
    ['cross-site', 'websocket', 403],
    ['cross-site', 'navigate', 200], // a link from another site to /verify?id=… still opens
    ['same-origin', 'cors', 200], // the dashboard and the verifier page
    ['none', 'navigate', 200], // the address bar, a bookmark, the meshsig dashboard link
  ])('Sec-Fetch-Site %s with Sec-Fetch-Mode %s is %i (review 114, L1)', async (site, mode, status) => {
    const headers = { 'sec-fetch-site': site, 'sec-fetch-mode': mode }
    const r = await fx.raw({ method: 'GET', path: '/stats', headers })
    expect(r.status).toBe(status)
    if (status === 403) expect(r.body).toMatchObject({ code: 'FORBIDDEN', error: expect.stringMatching(/cross-site/) })
  })

  it.each([
    ['cross-site', 'iframe', 403], // an <iframe> of another site (review 118, M2)
    ['same-site', 'iframe', 403],
    ['cross-site', 'frame', 403],
    ['cross-site', 'document', 200], // a top-level link from another site
    ['same-site', 'document', 200],
    ['same-origin', 'iframe', 200],
    ['none', 'document', 200],
  ])('Sec-Fetch-Site %s navigating with Sec-Fetch-Dest %s is %i (review 118, M2)', async (site, dest, status) => {
    const headers = { 'sec-fetch-site': site, 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': dest }
    const r = await fx.raw({ method: 'GET', path: '/stats', headers })
    expect(r.status).toBe(status)
    if (status === 403) expect(r.body).toMatchObject({ code: 'FORBIDDEN', error: expect.stringMatching(/cross-site/) })
  })

  it('a POST body that is not declared JSON is refused (no form posts from other sites)', async () => {
    for (const path of ['/agents/register', '/messages/send', '/verify']) {
      const r = await fx.raw({ method: 'POST', path, headers: { 'content-type': 'text/plain' }, body: '{"name":"x"}' })
      expect(r.status).toBe(400)
      expect(r.body.code).toBe('INVALID_INPUT')
    }
    expect((await fx.call('GET', '/stats')).body.agents).toBe(0)
  })

  it('oversized and malformed bodies on the fast path answer like the Express path', async () => {
    const big = JSON.stringify({ message: 'x'.repeat(1.1 * 1024 * 1024), signature: 'x', did: 'did:msig:x' })
    const r = await fx.raw({ method: 'POST', path: '/verify', headers: json, body: big })
    expect(r.status).toBe(413)
    expect(r.body.code).toBe('PAYLOAD_TOO_LARGE')
    const bad = await fx.raw({ method: 'POST', path: '/messages/send', headers: json, body: '{"x":' })
    expect(bad.status).toBe(400)
    expect(bad.body.code).toBe('MALFORMED')
    const scalar = await fx.raw({ method: 'POST', path: '/verify', headers: json, body: '"hello"' })
    expect(scalar.body.code).toBe('MALFORMED')
  })

  it('error answers never carry a stack trace', async () => {
    const r = await fx.raw({ method: 'POST', path: '/handshake', headers: json, body: '{"fromDid":1}' })
    expect(r.status).toBe(400)
    expect(r.text).not.toMatch(/at .*\.ts:\d+|node_modules|Error:/)
  })
})

describe('rate limit: 60 a minute per client address', () => {
  let fx: ApiFixture
  beforeAll(async () => {
    fx = await startApi({ rateLimit: 60 })
  })
  afterAll(async () => {
    expectNo500(fx)
    await fx.stop()
  })

  it('the 61st request in a minute is 429 with Retry-After and {error, retryAfter, limit, window}', async () => {
    const paths = ['/agents', '/verify', '/stats', '/messages/send']
    for (let i = 0; i < 60; i++) {
      const path = paths[i % paths.length]!
      const r = path === '/agents' || path === '/stats' ? await fx.call('GET', path) : await fx.call('POST', path, {})
      expect(r.status).not.toBe(429)
    }
    for (const r of [
      await fx.call('GET', '/stats'),
      await fx.call('POST', '/verify', {}),
      await fx.call('POST', '/messages/send', {}),
    ]) {
      expect(r.status).toBe(429)
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0)
      expect(r.body).toMatchObject({
        code: 'RATE_LIMITED',
        limit: 60,
        window: 60,
        retryAfter: Number(r.headers['retry-after']),
      })
      expect(typeof r.body.error).toBe('string')
    }
  })

  it('X-Forwarded-For is ignored without a trusted proxy', async () => {
    const r = await fx.call('GET', '/stats', undefined, { 'x-forwarded-for': '203.0.113.9' })
    expect(r.status).toBe(429)
  })

  it('GET /health is not counted: health checks, and the token proof the CLI asks for first, still answer', async () => {
    let anonymous = 0
    while ((await fx.anon('GET', '/stats')).status !== 429) expect(++anonymous).toBeLessThanOrEqual(60)
    const r = await fx.anon('GET', '/health', undefined, { 'x-meshsig-token-challenge': 'A'.repeat(43) })
    expect(r.status).toBe(200)
    expect(r.headers['x-meshsig-token-proof']).toBeDefined()
    expect((await fx.anon('GET', '/stats')).status).toBe(429)
  })
})

describe('rate limit behind a trusted proxy', () => {
  let fx: ApiFixture
  beforeAll(async () => {
    fx = await startApi({ rateLimit: 2, trustProxy: ['loopback'] })
  })
  afterAll(async () => {
    expectNo500(fx)
    await fx.stop()
  })

  it('counts per forwarded client address', async () => {
    const as = (ip: string) => fx.anon('GET', '/stats', undefined, { 'x-forwarded-for': ip })
    expect((await as('198.51.100.1')).status).toBe(200)
    expect((await as('198.51.100.1')).status).toBe(200)
    expect((await as('198.51.100.1')).status).toBe(429)
    expect((await as('198.51.100.2')).status).toBe(200)
  })
})

describe('bound off loopback: state changes need the bearer token', () => {
  const token = 'test-token-0123456789abcdefghijklmnopqrstu'
  let node: MeshNode
  let api: Api
  let server: Server
  let url: string
  const statuses: number[] = []
  const req = async (method: string, path: string, body?: unknown, auth?: string) => {
    const r = await rawRequest(url, {
      method,
      path,
      headers: { ...(body !== undefined ? json : {}), ...(auth ? { authorization: auth } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    })
    statuses.push(r.status)
    return r
  }

  beforeAll(async () => {
    node = await startNode()
    // the API believes it is bound to every interface; the test server listens on loopback only
    api = createApi(node, { host: '0.0.0.0', token, rateLimit: 0 })
    server = createServer(api.handler)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    expect(statuses.filter((s) => s >= 500)).toEqual([])
    await new Promise((resolve) => server.close(resolve))
    await api.close()
    await stopAll([node])
  })

  it('refuses to be built without a token', () => {
    expect(() => createApi(node, { host: '0.0.0.0' })).toThrow(/token/)
  })

  it('state changes without (or with a wrong) token are 401 UNAUTHORIZED and change nothing', async () => {
    for (const auth of [undefined, 'Bearer wrong-token', `Basic ${token}`]) {
      const r = await req('POST', '/agents/register', { name: 'x' }, auth)
      expect(r.status).toBe(401)
      expect(r.body.code).toBe('UNAUTHORIZED')
      expect((await req('POST', '/messages/send', { fromDid: node.did, toDid: null, message: 'm' }, auth)).status).toBe(
        401,
      )
      expect((await req('POST', '/handshake', { fromDid: node.did, toDid: node.did }, auth)).status).toBe(401)
      expect((await req('POST', '/peers/connect', { address: '/ip4/127.0.0.1/tcp/1' }, auth)).status).toBe(401)
      expect((await req('POST', '/agents/revoke', { did: node.did }, auth)).status).toBe(401)
      expect((await req('POST', '/agents/rotate-key', { did: node.did }, auth)).status).toBe(401)
    }
    expect(node.stats().agents).toBe(0)
  })

  it('with the token they work; reads and /verify stay open', async () => {
    const r = await req('POST', '/agents/register', { name: 'ok' }, `Bearer ${token}`)
    expect(r.status).toBe(201)
    const did = r.body.identity.did
    expect(
      (await req('POST', '/messages/send', { fromDid: did, toDid: null, message: 'm' }, `Bearer ${token}`)).status,
    ).toBe(200)
    expect((await req('POST', '/agents/rotate-key', { did }, `Bearer ${token}`)).status).toBe(200)
    expect((await req('GET', '/stats')).status).toBe(200)
    expect((await req('GET', '/agents')).status).toBe(200)
    expect((await req('POST', '/verify', { message: 'm', signature: 'x', did })).status).toBe(400)
    expect((await req('POST', '/discover', {})).status).toBe(200)
  })
})

describe('behind a trusted proxy on loopback: the proxy address is no operator', () => {
  const token = 'proxy-token-0123456789abcdefghijklmnopqrs'
  let fx: ApiFixture
  beforeAll(async () => {
    fx = await startApi({ trustProxy: ['127.0.0.1'] }, { token })
  })
  afterAll(async () => {
    expectNo500(fx)
    await fx.stop()
  })
  const bearer = { authorization: `Bearer ${token}` }

  it('state changes from a proxied client need the bearer token even though it arrives from 127.0.0.1', async () => {
    const reg = await fx.call('POST', '/agents/register', { name: 'custodied' }, bearer)
    expect(reg.status).toBe(201)
    const did: string = reg.body.identity.did
    const asClient: Record<string, string>[] = [
      { authorization: '' },
      { authorization: '', 'x-forwarded-for': '203.0.113.7' },
      { authorization: '', 'x-forwarded-for': '127.0.0.1' },
    ]
    for (const headers of asClient) {
      const r = await fx.call('POST', '/agents/revoke', { did, reason: 'Key leaked' }, headers)
      expect(r.status).toBe(401)
      expect(r.body.code).toBe('UNAUTHORIZED')
      expect((await fx.call('POST', '/agents/register', { name: 'x' }, headers)).status).toBe(401)
    }
    expect(fx.node.signerKey(did).revoked).toBe(false)
    expect(fx.node.stats().agents).toBe(1)
    const ok = await fx.call('POST', '/agents/revoke', { did, reason: 'Key leaked' }, bearer)
    expect(ok.status).toBe(200)
    expect(ok.body.revoked).toBe(true)
    expect(fx.node.signerKey(did).revoked).toBe(true)
  })
})

describe('rate limit on one host: per credential, else per address, all of loopback one address', () => {
  let fx: ApiFixture
  beforeAll(async () => {
    fx = await startApi({ rateLimit: 5 })
  })
  afterAll(async () => {
    expectNo500(fx)
    await fx.stop()
  })

  /** GET /stats (a counted read) from a given local source address, with an optional bearer. */
  function health(localAddress: string, bearer?: string): Promise<number> {
    const u = new URL(fx.url)
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: u.hostname,
          port: u.port,
          path: '/stats',
          localAddress,
          headers: bearer ? { authorization: `Bearer ${bearer}` } : {},
        },
        (res) => {
          res.resume()
          res.on('end', () => resolve(res.statusCode ?? 0))
        },
      )
      req.on('error', reject)
      req.end()
    })
  }

  it("one agent's burst does not throttle another user, and 127.0.0.2 is no fresh client", async () => {
    const credential: string = (await fx.call('POST', '/agents/register', { name: 'bursty' })).body.identity.credential
    for (let i = 0; i < 5; i++) expect(await health('127.0.0.1', credential)).toBe(200)
    expect(await health('127.0.0.1', credential)).toBe(429)
    // the operator (own bucket, one request spent on the registration) and anonymous users are untouched
    expect(await health('127.0.0.1', fx.token)).toBe(200)
    for (let i = 0; i < 3; i++) expect(await health('127.0.0.1')).toBe(200)
    expect(await health('127.0.0.2')).toBe(200) // the 4th and 5th anonymous loopback requests,
    expect(await health('127.0.0.3')).toBe(200) // from other loopback addresses
    expect(await health('127.0.0.4')).toBe(429) // loopback is one client, whatever its address
    // a made-up bearer gets no bucket of its own
    expect(await health('127.0.0.1', 'msag_' + 'B'.repeat(43))).toBe(429)
  })
})

describe('rate limit: an agent credential mints no more credentials than its address may', () => {
  let fx: ApiFixture
  beforeAll(async () => {
    fx = await startApi({ rateLimit: 3 })
  })
  afterAll(async () => {
    expectNo500(fx)
    await fx.stop()
  })

  it('registrations with an agent credential count against the address, other requests against the credential', async () => {
    const register = (name: string, bearer?: string) =>
      fx.raw({
        method: 'POST',
        path: '/agents/register',
        headers: { ...json, ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
        body: JSON.stringify({ name }),
      })
    const first = await register('minter')
    expect(first.status).toBe(201)
    const credential: string = first.body.identity.credential
    expect((await register('child-1', credential)).status).toBe(201)
    expect((await register('child-2', credential)).status).toBe(201)
    // loopback has spent its 3: neither the credential nor anyone else on loopback registers more
    const refused = await register('child-3', credential)
    expect(refused.status).toBe(429)
    expect(refused.body.code).toBe('RATE_LIMITED')
    expect((await register('anonymous')).status).toBe(429)
    expect((await fx.call('GET', '/stats')).body.agents).toBe(3)
    // the credential's own bucket is untouched for what it does as its agent
    const own = await fx.raw({ method: 'GET', path: '/health', headers: { authorization: `Bearer ${credential}` } })
    expect(own.status).toBe(200)
  })

  // an attack review: the router sends these to the registration too, and the exact path compare charged them to
  // the credential, so each new agent's credential registered more (1 + 3 + 9 agents in one window)
  it.each(['/agents/register/', '/AGENTS/REGISTER', '/Agents/Register/', '/agents/register?x=1'])(
    'so do registrations through %s: no credential registers from a bucket of its own',
    async (path) => {
      const variant = await startApi({ rateLimit: 3 })
      try {
        const register = (name: string, bearer?: string) =>
          variant.raw({
            method: 'POST',
            path,
            headers: { ...json, ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
            body: JSON.stringify({ name }),
          })
        const first = await register('minter')
        expect(first.status).toBe(201)
        let frontier: string[] = [first.body.identity.credential]
        for (let round = 0; round < 2; round++) {
          const next: string[] = []
          for (const credential of frontier)
            for (let i = 0; i < 3; i++) {
              const r = await register(`child-${round}-${i}`, credential)
              if (r.status === 201) next.push(r.body.identity.credential as string)
            }
          frontier = next
        }
        expect((await variant.call('GET', '/stats')).body.agents).toBe(3)
      } finally {
        expectNo500(variant)
        await variant.stop()
      }
    },
  )
})

describe('request targets that are no path', () => {
  let fx: ApiFixture
  beforeAll(async () => {
    fx = await startApi()
  })
  afterAll(async () => {
    expectNo500(fx)
    await fx.stop()
  })

  // review 81 (F3): the router took the path out of an absolute URL or before a fragment, the rate limiter read the
  // raw target: registrations spelled so were charged to the credential they carried (1 + 3 + 9 agents a window)
  it.each(['/agents/register#x', 'ABSOLUTE', '//agents/register', '/health#x'])(
    '%s is 400 INVALID_INPUT and reaches no route',
    async (spelled) => {
      const path = spelled === 'ABSOLUTE' ? `${fx.url}/agents/register` : spelled
      const r = await fx.raw({ method: 'POST', path, headers: json, body: JSON.stringify({ name: 'minter' }) })
      expect(r.status).toBe(400)
      expect(r.body).toMatchObject({ code: 'INVALID_INPUT' })
      expect((await fx.call('GET', '/stats')).body.agents).toBe(0)
    },
  )
})

describe("requests Node's HTTP parser refuses", () => {
  let fx: ApiFixture
  beforeAll(async () => {
    fx = await startApi()
  })
  afterAll(() => fx.stop())

  /** Send raw bytes and read the whole answer. */
  function rawBytes(text: string): Promise<string> {
    const u = new URL(fx.url)
    return new Promise((resolve, reject) => {
      const socket = connect(Number(u.port), u.hostname, () => socket.end(text))
      let answer = ''
      socket.on('data', (d: Buffer) => (answer += d.toString('utf8')))
      socket.on('close', () => resolve(answer))
      socket.on('error', reject)
    })
  }

  it('a malformed request line and oversized headers get {error, code}, not an empty answer', async () => {
    const bad = await rawBytes('GARBAGE\r\n\r\n')
    expect(bad).toMatch(/^HTTP\/1\.1 400/)
    expect(JSON.parse(bad.slice(bad.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'INVALID_INPUT' })
    const big = await rawBytes(`GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
    expect(big).toMatch(/^HTTP\/1\.1 431/)
    expect(JSON.parse(big.slice(big.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'INVALID_INPUT' })
  })
})

describe.each([true, false])('body edge cases answer alike on both paths (fast path %s)', (fastPath) => {
  let fx: ApiFixture
  beforeAll(async () => {
    fx = await startApi({}, { fastPath })
  })
  afterAll(async () => {
    expectNo500(fx)
    await fx.stop()
  })

  it('a UTF-8 BOM before the JSON is dropped; a body of only whitespace is MALFORMED; an empty one is {}', async () => {
    const key = generateKeyPair()
    const body = JSON.stringify({
      message: 'm',
      signature: toB64(key.sign(utf8('m'))),
      publicKey: toB64(key.publicKey),
    })
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)])
    const r = await fx.raw({ method: 'POST', path: '/verify', headers: json, body: bom })
    expect(r.status).toBe(200)
    expect(r.body.valid).toBe(true)
    for (const path of ['/verify', '/agents/register', '/messages/send']) {
      const blank = await fx.raw({ method: 'POST', path, headers: json, body: ' \n\t ' })
      expect([path, blank.status, blank.body.code]).toEqual([path, 400, 'MALFORMED'])
      const empty = await fx.raw({ method: 'POST', path, headers: json, body: '' })
      expect([path, empty.status, empty.body.code]).toEqual([path, 400, 'INVALID_INPUT'])
    }
  })

  it('an envelope key named __proto__ is an unknown field like any other: MALFORMED, nothing stored', async () => {
    const key = generateKeyPair()
    const did = didFromPublicKey(key.publicKey)
    const env = createMessage({ from: did, to: null, body: 'p', ts: Date.now(), nonce: randomNonce() }, key)
    const text = JSON.stringify({ envelope: env }).replace('{"v":1', '{"__proto__":{"evil":"x"},"v":1')
    expect(text).toContain('__proto__')
    const r = await fx.raw({ method: 'POST', path: '/messages/send', headers: json, body: text })
    expect(r.status).toBe(400)
    expect(r.body.code).toBe('MALFORMED')
    expect(r.body.error).toContain('__proto__')
    expect((await fx.call('GET', '/messages')).body.messages).toHaveLength(0)
  })
})
