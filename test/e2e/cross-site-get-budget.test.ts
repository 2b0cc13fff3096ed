/**
 * Attack review 114, L1 (docs/api.md "Browsers", decision 0082): a page of another origin cannot spend the
 * node's one anonymous loopback budget. A no-cors GET (`<img src>`) carries no Origin, so the Origin check
 * never saw it; Chromium marks it `Sec-Fetch-Site: cross-site`, `Sec-Fetch-Mode: no-cors`. The node refuses
 * it before the rate limiter counts it: the page makes the node do no work, and an anonymous local client
 * (seed-style curl, `meshsig verify` without a token, the dashboard from its plain URL) is still served.
 * Runs a real headless Chromium.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Request } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type ApiFixture } from '../api/api-fixture.js'
import { ensureUiBuilt, openBrowser, type BrowserSession } from './e2e-fixture.js'

const IMAGES = 80 // more than the minute's anonymous budget (60)

describe('a page of another origin cannot spend the anonymous budget (review 114, L1)', () => {
  let fx: ApiFixture
  let browser: BrowserSession
  let evil: Server
  let evilUrl = ''

  beforeAll(async () => {
    await ensureUiBuilt()
    fx = await startApi({ rateLimit: 60 }, {}, { name: 'r114-budget' })
    evil = createServer((_req, res) => {
      const imgs = Array.from({ length: IMAGES }, (_, i) => `<img src="${fx.url}/stats?n=${i}">`).join('')
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>cat pictures</title>${imgs}`)
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

  it('its no-cors GETs are refused before they are counted, and leave the anonymous bucket alone', async () => {
    let settled = 0 // image requests the browser sent that have ended (Chromium's ORB fails a refused image)
    const done = (r: Request): void => {
      if (r.url().startsWith(`${fx.url}/stats`)) settled += 1
    }
    browser.page.on('requestfinished', done).on('requestfailed', done)
    await browser.page.goto(evilUrl, { waitUntil: 'load' })
    // count work, not time: every image request the page made has ended
    await expect.poll(() => settled, { timeout: 20_000 }).toBe(IMAGES)
    expect(await answered('200')).toBe(0) // the page made the node do no work for it
    expect(await answered('429')).toBe(0)
    expect((await fx.anon('GET', '/stats')).status).toBe(200) // and spent none of the budget local clients share
  })
})
