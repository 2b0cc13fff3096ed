/**
 * The dashboard's economies under load keep everything reachable (issue 14):
 * the agent table shows 50 rows at a time with a "Show more" button, the
 * feed renders only its newest rows and more as the list is scrolled (down
 * to the oldest line it keeps), and the graph, handed to vis-network at
 * most every 2 s, still ends up with every agent and edge.
 */
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OPERATOR } from '../../node/services/authority.js'
import { expectNo500, startApi, type ApiFixture } from '../api/api-fixture.js'
import { waitFor } from '../helpers/wait-for.js'
import { ensureUiBuilt, openBrowser, type BrowserSession } from './e2e-fixture.js'

const AGENTS = 60
const MESSAGES = 90

describe('dashboard with many agents and events (issue 14)', () => {
  let fx: ApiFixture
  let browser: BrowserSession
  let page: Page
  const dids: string[] = []

  beforeAll(async () => {
    await ensureUiBuilt()
    fx = await startApi({}, {}, { name: 'e2e-scale-node' })
    browser = await openBrowser()
    page = browser.page
    await page.setViewportSize({ width: 1440, height: 900 })
    await page.goto(fx.url + '/')
    await page.getByTestId('stream-status').filter({ hasText: 'Live' }).waitFor()
    for (let i = 0; i < AGENTS; i++) {
      const r = await fx.node.registerAgent(`scale-${String(i).padStart(2, '0')}`, [{ type: 'work' }])
      dids.push(r.identity.did)
    }
    for (let i = 0; i < MESSAGES; i++) {
      const fromDid = dids[i % AGENTS]!
      const toDid = dids[(i * 7 + 1) % AGENTS]!
      await fx.node.sendMessage({ fromDid, toDid, message: `scale message ${i}`, authority: OPERATOR })
    }
  })
  afterAll(async () => {
    await browser?.close()
    expectNo500(fx)
    await fx?.stop()
  })

  it('draws every agent and every message pair in the graph', async () => {
    const pairs = new Set(Array.from({ length: MESSAGES }, (_, i) => [i % AGENTS, (i * 7 + 1) % AGENTS].sort().join()))
    await page
      .locator(`[data-testid="agent-graph"][data-nodes="${AGENTS}"][data-edges="${pairs.size}"]`)
      .waitFor({ timeout: 15_000 })
  })

  it('shows the agent table 50 rows at a time, and the rest on demand', async () => {
    const rows = page.locator('[data-testid="agent-table"] tbody tr')
    await waitFor(async () => (await rows.count()) === 50)
    const more = page.getByTestId('agent-table-more')
    expect(await more.innerText()).toContain(`50 of ${AGENTS} shown`)
    await more.click()
    await waitFor(async () => (await rows.count()) === AGENTS)
    expect(await more.count()).toBe(0)
    await page.locator(`[data-testid="agent-table"] tr[data-did="${dids[AGENTS - 1]!}"]`).waitFor()
  })

  it('renders the newest feed lines and the older ones as the list is scrolled', async () => {
    const feed = page.getByTestId('event-feed')
    await feed.locator('li', { hasText: `scale message ${MESSAGES - 1}` }).waitFor()
    const kept = Number(/(\d+) shown/.exec(await page.locator('#feed-title').innerText())?.[1])
    expect(kept).toBeGreaterThan(100)
    const rendered = await feed.locator('li').count()
    expect(rendered).toBeLessThan(kept)
    await waitFor(
      async () => {
        await feed.evaluate((el) => (el.scrollTop = el.scrollHeight))
        return (await feed.locator('li').count()) === kept
      },
      { timeout: 10_000 },
    )
    expect(browser.errors).toEqual([])
  })
})
