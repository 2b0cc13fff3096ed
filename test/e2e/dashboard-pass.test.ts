/**
 * The dashboard keeps working while another local user floods the node
 * (decision 0050; stop 35's review: one local user filled the anonymous
 * stream slots and spent the loopback rate-limit bucket, and the operator's
 * page got 503 and 429). In a real browser: the page opened without a pass
 * is starved; the page opened with the link `meshsig dashboard` prints goes
 * live, drops the pass from its address, and holds its session in the tab
 * (no cookie); a page on another loopback port (the same site, and cookies
 * ignore ports) can neither spend nor replace its lane; a spent pass says so.
 */
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { MeshsigClient } from '../../api/client.js'
import { expectNo500, startApi, type ApiFixture } from '../api/api-fixture.js'
import { ensureUiBuilt, openBrowser, type BrowserSession } from './e2e-fixture.js'

describe('dashboard link with a pass, under a local flood', () => {
  let fx: ApiFixture
  let browser: BrowserSession
  const flood: WebSocket[] = []

  /** An anonymous stream from another local user: its status (101 when it holds a slot). */
  const squat = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(fx.url.replace(/^http/, 'ws'))
      ws.once('open', () => {
        flood.push(ws)
        resolve(101)
      })
      ws.once('unexpected-response', (_req, res: IncomingMessage) => resolve(res.statusCode ?? 0))
      ws.once('error', reject)
    })

  beforeAll(async () => {
    await ensureUiBuilt()
    fx = await startApi({ rateLimit: 40 }, {}, { name: 'flooded', init: { limits: { stream: { maxClients: 4 } } } })
    await fx.call('POST', '/agents/register', { name: 'visible-agent' })
    browser = await openBrowser()
    // another local user: every anonymous stream slot (3 of 4), then the loopback bucket
    while ((await squat()) === 101);
    while ((await fx.anon('GET', '/stats')).status !== 429);
  })
  afterAll(async () => {
    for (const ws of flood) ws.terminate()
    await browser?.close()
    expectNo500(fx)
    await fx?.stop()
  })

  it('without a pass the page is starved: the rate-limit banner names the way out', async () => {
    const page = await browser.context.newPage()
    await page.goto(fx.url + '/')
    const banner = page.getByTestId('rate-limit-banner')
    await banner.waitFor()
    expect(await banner.innerText()).toContain('meshsig dashboard')
    await page.close()
  })

  it('with the pass the page goes live, shows the agents, and keeps no pass in its address', async () => {
    const issued = await new MeshsigClient({ server: fx.url, token: fx.token }).dashboardPass()
    const page = await browser.context.newPage()
    await page.goto(`${fx.url}/#pass=${issued.pass}`)
    await page.getByTestId('stream-status').filter({ hasText: 'Live' }).waitFor()
    await page.getByTestId('agent-table').getByText('visible-agent').waitFor()
    expect(await page.getByTestId('rate-limit-banner').count()).toBe(0)
    expect(page.url()).not.toContain('pass=')
    // the session is this tab's, in its sessionStorage: no cookie another port's page could spend or replace
    expect(await browser.context.cookies(fx.url)).toEqual([])
    expect(await page.evaluate('sessionStorage.getItem("meshsig-view-session")')).toMatch(/^[A-Za-z0-9_-]{43}$/)
    await page.close()
  })

  it('a spent pass says so, in a fresh browser profile', async () => {
    const issued = await new MeshsigClient({ server: fx.url, token: fx.token }).dashboardPass()
    const first = await fx.anon('POST', '/dashboard/session', { pass: issued.pass })
    expect(first.status).toBe(200)
    const other = await openBrowser()
    try {
      await other.page.goto(`${fx.url}/#pass=${issued.pass}`)
      const banner = other.page.getByTestId('pass-refused-banner')
      await banner.waitFor()
      expect(await banner.innerText()).toMatch(/unknown, spent or expired/)
    } finally {
      await other.close()
    }
  })

  it('a page another local user serves on another loopback port cannot spend or replace the lane', async () => {
    const issued = await new MeshsigClient({ server: fx.url, token: fx.token }).dashboardPass()
    const page = await browser.context.newPage()
    await page.goto(`${fx.url}/#pass=${issued.pass}`)
    await page.getByTestId('stream-status').filter({ hasText: 'Live' }).waitFor()
    // the same site: 60 image requests at the node's API, and a cookie named as the lane's once was
    const port = new URL(fx.url).port
    const other = createServer((req, res) => {
      res.setHeader('Set-Cookie', `meshsig_view_${port}=${'A'.repeat(43)}; Path=/; SameSite=Strict`)
      res.setHeader('content-type', 'text/html')
      res.end(Array.from({ length: 60 }, (_, i) => `<img src="${fx.url}/stats?i=${i}">`).join(''))
    })
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve))
    try {
      const tab = await browser.context.newPage()
      await tab.goto(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`)
      await tab.waitForLoadState('load')
      await tab.close()
    } finally {
      await new Promise((resolve) => other.close(resolve))
    }
    // the page's own request, as the app makes it (api.ts: the session of its sessionStorage as a header)
    const status = await page.evaluate(`fetch('/stats', { headers: { 'x-meshsig-view':
      sessionStorage.getItem('meshsig-view-session') } }).then((r) => r.status)`)
    expect(status).toBe(200)
    await page.close()
  })

  it('raised no page errors beyond the refusals of the flood', () => {
    const expected = /status of (401|429|503)|response code: (429|503)/
    expect(browser.errors.filter((e) => !expected.test(e))).toEqual([])
  })
})
