/**
 * Attack review 118, M2 (decision 0082): an `<iframe>` of another site is a navigation too
 * (`Sec-Fetch-Mode: navigate`, `Sec-Fetch-Dest: iframe`) and carries no Origin. The node accepts a
 * cross-site navigation only when it is top-level (`Sec-Fetch-Dest: document`), so a page's 80 iframes
 * are refused before the rate limiter counts them and spend none of the anonymous loopback budget
 * (the iframe twin of cross-site-get-budget.test.ts). Runs a real headless Chromium.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Request } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type ApiFixture } from '../api/api-fixture.js'
import { ensureUiBuilt, openBrowser, type BrowserSession } from './e2e-fixture.js'

const FRAMES = 80 // iframes: more than the minute's anonymous budget (60)

describe('a page of another origin cannot spend the anonymous budget with iframes', () => {
  let fx: ApiFixture
  let browser: BrowserSession
  let evil: Server
  let evilUrl = ''

  beforeAll(async () => {
    await ensureUiBuilt()
    fx = await startApi({ rateLimit: 60 }, {}, { name: 'cross-site-iframe' })
    evil = createServer((_req, res) => {
      const frames = Array.from({ length: FRAMES }, (_, i) => `<iframe src="${fx.url}/stats?n=${i}"></iframe>`).join('')
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>cat pictures</title>${frames}`)
    })
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r))
    // another web server on this machine (another port), under another name: another site
    evilUrl = `http://localhost:${(evil.address() as AddressInfo).port}/`
    browser = await openBrowser()
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
    await new Promise<void>((r) => evil?.close(() => r()))
    await fx?.stop()
  })

  /** How many GET /stats the node answered with `status`, from its own metrics (read with the operator token). */
  async function answered(status: string): Promise<number> {
    const metrics = (await fx.call('GET', '/metrics')).text
    return metrics
      .split('\n')
      .filter((l) => !l.startsWith('#') && l.includes('/stats') && l.includes(`"${status}"`) && /_count|_total/.test(l))
      .reduce((n, l) => n + Number(l.trim().split(/\s+/).pop()), 0)
  }

  it('its iframe navigations (Sec-Fetch-Site: cross-site, Mode: navigate, Dest: iframe) are refused before they are counted', async () => {
    let settled = 0 // iframe requests the browser sent that have ended
    const done = (r: Request): void => {
      if (r.url().startsWith(`${fx.url}/stats`)) settled += 1
    }
    browser.page.on('requestfinished', done).on('requestfailed', done)
    await browser.page.goto(evilUrl, { waitUntil: 'load' })
    // count work, not time: every iframe request the page made has ended
    await expect.poll(() => settled, { timeout: 20_000 }).toBe(FRAMES)
    expect(await answered('200')).toBe(0) // the page made the node do no work for it
    expect(await answered('429')).toBe(0)
    expect((await fx.anon('GET', '/stats')).status).toBe(200) // and spent none of the budget local clients share
  })
})
