/**
 * The dashboard keeps working while another local user floods the node
 * (decision 0050; stop 35's review: one local user filled the anonymous
 * stream slots and spent the loopback rate-limit bucket, and the operator's
 * page got 503 and 429). In a real browser: the page opened without a pass
 * is starved; the page opened with the link `meshsig dashboard` prints goes
 * live, drops the pass from its address, and holds its session in an
 * HttpOnly cookie; a spent pass says so.
 */
import type { IncomingMessage } from 'node:http'
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
    const cookies = await browser.context.cookies(fx.url)
    expect(cookies.map((c) => ({ name: c.name, httpOnly: c.httpOnly, sameSite: c.sameSite }))).toEqual([
      { name: `meshsig_view_${new URL(fx.url).port}`, httpOnly: true, sameSite: 'Strict' },
    ])
    expect(await page.evaluate('document.cookie')).toBe('') // not readable by script
    await page.close()
  })

  it('a spent pass says so, in a fresh browser profile', async () => {
    const issued = await new MeshsigClient({ server: fx.url, token: fx.token }).dashboardPass()
    const first = await fx.anon('POST', '/dashboard/session', { pass: issued.pass })
    expect(first.status).toBe(204)
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

  it('raised no page errors beyond the refusals of the flood', () => {
    const expected = /status of (401|429|503)|response code: (429|503)/
    expect(browser.errors.filter((e) => !expected.test(e))).toEqual([])
  })
})
