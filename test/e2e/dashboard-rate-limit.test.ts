/**
 * The dashboard says when the node limits its requests (found by the new-user
 * review of stop 32): the API's rate limit counts every anonymous local
 * client as one, so other programs on the machine can spend the page's
 * budget; the page used to show the gaps (no sparklines, no message edges)
 * as if they were data. In a real browser, against a node whose budget the
 * page outruns: a banner with the wait, and no page error.
 */
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectNo500, startApi, type ApiFixture } from '../api/api-fixture.js'
import { ensureUiBuilt, openBrowser, type BrowserSession } from './e2e-fixture.js'

describe('dashboard under the rate limit', () => {
  let fx: ApiFixture
  let browser: BrowserSession
  let page: Page

  beforeAll(async () => {
    await ensureUiBuilt()
    fx = await startApi({ rateLimit: 3 }, {}, { name: 'limited-node' })
    browser = await openBrowser()
    page = browser.page
  })
  afterAll(async () => {
    await browser?.close()
    expectNo500(fx)
    await fx?.stop()
  })

  it('shows a banner naming the wait when the node answers 429', async () => {
    // another program on this machine spends the loopback budget the page shares
    while ((await fx.anon('GET', '/stats')).status !== 429) await new Promise((r) => setTimeout(r, 1))
    await page.goto(fx.url + '/')
    const banner = page.getByTestId('rate-limit-banner')
    await banner.waitFor()
    const text = await banner.innerText()
    expect(text).toContain('The node is limiting this page’s requests')
    expect(text).toMatch(/fetched again in \d+ s|Reload/)
    await page.screenshot({ path: '/tmp/meshsig-rate-limit.png' })
  })

  it('with the budget free, a fresh page shows no banner', async () => {
    const fresh = await startApi({ rateLimit: 0 }, {}, { name: 'unlimited-node' })
    try {
      await page.goto(fresh.url + '/')
      await page.getByTestId('stream-status').filter({ hasText: 'Live' }).waitFor()
      expect(await page.getByTestId('rate-limit-banner').count()).toBe(0)
    } finally {
      await fresh.stop()
    }
  })

  it('raised no page errors beyond the refused requests', () => {
    // the stream's upgrade counts against the same budget (docs/api.md): the browser logs its 429 as well
    expect(browser.errors.filter((e) => !/status of 429|response code: 429/.test(e))).toEqual([])
  })
})
