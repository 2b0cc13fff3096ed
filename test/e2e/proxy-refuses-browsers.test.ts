/**
 * Attack review 114, M1 (docs/proxy.md "Browsers", decision 0082): a web page must not make the signing
 * proxy sign for it. With `--proxy-sign-as-node` the default listener signs every caller nothing else
 * attributes as the node; a browser is such a caller, and it sends what any page it shows chooses. A page's
 * auto-submitted form and `<img>` ("simple" requests: no preflight), a DNS-rebound name (the page is then
 * same-origin with the listener) and a `fetch()` through a gateway that sends CORS headers are all refused:
 * 403 FORBIDDEN, nothing signed, forwarded or audited. An agent's own request still goes through, and never
 * gets the gateway's `Access-Control-*` headers back. Runs a real headless Chromium.
 */
import { createServer, request, type Server } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import type { Request } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NonceCache, verifyRequestSignature, type HttpSignatureVerdict } from '../../node/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { startNodeProxy, type SigningProxy } from '../../node/proxy/index.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { ensureUiBuilt, openBrowser, type BrowserSession } from './e2e-fixture.js'

interface Seen {
  readonly path: string
  readonly verdict: HttpSignatureVerdict
}

interface Answer {
  readonly status: number
  readonly headers: Record<string, unknown>
  readonly body: string
}

let node: MeshNode
let gateway: Server
let proxy: SigningProxy
let evil: Server
let evilOrigin = ''
let browser: BrowserSession
const seen: Seen[] = []

/** A gateway that verifies every request for its own authority; under /cors it lets any page read its answer. */
function startGateway(): Promise<Server> {
  const nonces = new NonceCache()
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const { port } = server.address() as AddressInfo
      const body = new Uint8Array(Buffer.concat(chunks))
      const signed = {
        method: req.method ?? '',
        authority: `127.0.0.1:${port}`,
        path: req.url ?? '/',
        headers: req.headers,
        body,
      }
      void verifyRequestSignature(signed, {
        now: Date.now(),
        resolveKey: (keyid) => node.signerKey(keyid).publicKey ?? undefined,
        seenNonce: nonces.seen,
      }).then((verdict) => {
        seen.push({ path: req.url ?? '', verdict })
        const cors = (req.url ?? '').startsWith('/cors') ? { 'access-control-allow-origin': '*' } : {}
        res.writeHead(verdict.ok ? 200 : 401, cors).end(verdict.ok ? 'account balance 1234' : 'no')
      })
    })
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

/** Another site: its page auto-submits a text/plain form that reads as JSON, and loads an `<img>`. */
function startEvilSite(): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/plain') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<p>cats</p>')
    res
      .writeHead(200, { 'content-type': 'text/html' })
      .end(
        `<!doctype html><body><form id="f" method="POST" action="${proxy.url}/api/transfer" enctype="text/plain">` +
          `<input name='{"to":"mallory","amount":10000,"x":"' value='"}'></form>` +
          `<img src="${proxy.url}/api/delete?all=1"><script>document.getElementById('f').submit()</script>`,
      )
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

/** A GET to the default listener as a program (not a browser) sends it, with these headers. */
function call(path: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxy.port, path, headers }, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

function proxyEntries(): number {
  return node.audit.verifiable().entries.filter((e) => e.kind === 'proxy.request').length
}

function signedAsNode(from: number): Seen[] {
  return seen.slice(from).filter((s) => s.verdict.ok && s.verdict.signature.keyid === node.did)
}

beforeAll(async () => {
  await ensureUiBuilt()
  node = await startNode({})
  gateway = await startGateway()
  const targetPort = (gateway.address() as AddressInfo).port
  proxy = await startNodeProxy(node, { listenPort: 0, targetHost: '127.0.0.1', targetPort }, { signAsNode: true })
  evil = await startEvilSite()
  evilOrigin = `http://localhost:${(evil.address() as AddressInfo).port}`
  browser = await openBrowser()
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await new Promise<void>((r) => evil?.close(() => r()))
  await proxy?.close()
  await new Promise<void>((r) => gateway?.close(() => r()))
  await stopAll([node])
})

describe('the signing proxy refuses what a web page makes a browser send (review 114, M1)', () => {
  it("an agent's own request is signed as the node, and gets no Access-Control-* header back", async () => {
    const before = seen.length
    const res = await call('/cors/balance', { host: `127.0.0.1:${proxy.port}` })
    expect(res).toMatchObject({ status: 200, body: 'account balance 1234' })
    expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([])
    expect(signedAsNode(before)).toHaveLength(1)
  })

  it("Node's own fetch, which sends Sec-Fetch-Mode: cors and no Sec-Fetch-Site, is an agent: signed", async () => {
    const before = seen.length
    const res = await fetch(`${proxy.url}/cors/balance`)
    expect([res.status, await res.text()]).toEqual([200, 'account balance 1234'])
    expect(signedAsNode(before)).toHaveLength(1)
  })

  it('a cross-site form post and <img> are refused: nothing signed, forwarded or audited', async () => {
    const before = seen.length
    const audited = proxyEntries()
    let settled = 0 // requests to the listener the page made that have ended (refused: an error page, a failed image)
    const done = (r: Request): void => {
      if (r.url().startsWith(proxy.url)) settled += 1
    }
    browser.page.on('requestfinished', done).on('requestfailed', done)
    await browser.page.goto(`${evilOrigin}/`)
    // count work, not time: wait until both requests the page made have their answer
    await expect.poll(() => settled, { timeout: 20_000 }).toBe(2)
    expect(seen.length).toBe(before)
    expect(proxyEntries()).toBe(audited)
  })

  it('a request without any Host (HTTP/1.0) is refused 403 FORBIDDEN, never forwarded', async () => {
    const before = seen.length
    const answer = await new Promise<string>((resolve, reject) => {
      let text = ''
      const s = connect(proxy.port, '127.0.0.1', () => s.write('GET /cors/balance HTTP/1.0\r\n\r\n'))
      s.on('data', (d: Buffer) => (text += d.toString()))
      s.on('end', () => resolve(text))
      s.on('error', reject)
    })
    expect(answer).toMatch(/^HTTP\/1\.[01] 403 /)
    expect(answer).toMatch(/"code":"FORBIDDEN"/)
    expect(seen.length).toBe(before)
  })

  it.each([
    ['a DNS-rebound Host', { host: 'rebind.attacker.example:4100' }],
    ['an Origin header', { origin: 'http://localhost:1' }],
    ['Origin: null', { origin: 'null' }],
    ['a Sec-Fetch-Site header', { 'sec-fetch-site': 'none' }],
    ['a Sec-Fetch-Mode header other than cors', { 'sec-fetch-mode': 'navigate' }],
    ['a Sec-Fetch-Dest header', { 'sec-fetch-dest': 'image' }],
    [
      'Sec-Fetch-Mode cors with a Sec-Fetch-Site (a browser fetch)',
      { 'sec-fetch-mode': 'cors', 'sec-fetch-site': 'same-origin' },
    ],
  ])('%s is refused 403 FORBIDDEN: nothing signed, forwarded or audited', async (_, extra) => {
    const before = seen.length
    const audited = proxyEntries()
    const res = await call('/cors/balance', { host: `127.0.0.1:${proxy.port}`, ...extra })
    expect(res.status).toBe(403)
    expect(JSON.parse(res.body)).toMatchObject({ code: 'FORBIDDEN', error: expect.stringMatching(/not forwarded/) })
    expect(seen.length).toBe(before)
    expect(proxyEntries()).toBe(audited)
  })

  it('a page cannot read a gateway answer through the proxy, even when the gateway sends CORS headers', async () => {
    await browser.page.goto(`${evilOrigin}/plain`)
    const before = seen.length
    const read = await browser.page.evaluate(async (url) => {
      try {
        return await (await fetch(url)).text()
      } catch (err) {
        return `failed: ${String(err)}`
      }
    }, `${proxy.url}/cors/balance`)
    expect(read).toMatch(/^failed/)
    expect(seen.length).toBe(before)
  })
})
