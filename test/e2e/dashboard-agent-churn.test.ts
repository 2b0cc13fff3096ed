/**
 * The dashboard with more agents than one snapshot page (review finding F2).
 * The stream's first snapshot holds 100 agents and each refresh (`GET
 * /snapshot?limit=1000`, every few seconds while events flow) 1,000. A
 * refresh replaced the page's agents with its page and then read the whole
 * registry (`GET /agents`) to add the rest back: the graph took agents out
 * and put them back at new places, the table's count dipped, and the whole
 * registry was downloaded with every refresh. What an operator checks here:
 * while messages flow, no agent leaves the graph or the table, and the
 * registry is read once per stream connection (once more after a
 * reconnect). The agents are added as a registry sync adds them: a remote
 * peer can register any number of them.
 */
import type { Page, Request } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serveApi, type ServedApi } from '../../api/server.js'
import { OPERATOR } from '../../node/services/authority.js'
import { MAX_GRAPH_AGENTS } from '../../ui/src/graph-links.js'
import { expectNo500, startApi, testConfig, type ApiFixture } from '../api/api-fixture.js'
import { stopAll } from '../helpers/mesh.js'
import { fillRegistry, signAgents } from '../helpers/registry-fill.js'
import { waitFor } from '../helpers/wait-for.js'
import { ensureUiBuilt, openBrowser, type BrowserSession } from './e2e-fixture.js'

const FILL = 1_050
/** Snapshot refreshes to sit through while messages flow. */
const REFRESHES = 3

/** What the page records while it runs (`window.churn`), read back by the test. */
interface Churn {
  /** Fewest agents the graph held. */
  minDrawn: number
  /** Fewest agents the table counted ("50 of N shown"). */
  minListed: number
  /** Agents taken out of the graph since the watch began. */
  removed: number
}

/** Record the fewest agents the graph and the table held from now on (the test tsconfig has no DOM types). */
const WATCH = `(() => {
  const graph = document.querySelector('[data-testid="agent-graph"]')
  const listed = () => Number(/of (\\d+) shown/.exec(document.querySelector('[data-testid="agent-table-more"]')?.textContent ?? '')?.[1] ?? NaN)
  const removed0 = Number(graph.getAttribute('data-removed'))
  const churn = { minDrawn: Number(graph.getAttribute('data-nodes')), minListed: listed(), removed: 0 }
  window.churn = churn
  new MutationObserver(() => {
    churn.removed = Number(graph.getAttribute('data-removed')) - removed0
    churn.minDrawn = Math.min(churn.minDrawn, Number(graph.getAttribute('data-nodes')))
    const n = listed()
    if (!Number.isNaN(n)) churn.minListed = Math.min(churn.minListed, n)
  }).observe(document.querySelector('[data-testid="dashboard"]'), { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['data-nodes', 'data-removed'] })
})()`

describe('dashboard with more agents than a snapshot page (F2)', () => {
  let fx: ApiFixture
  let browser: BrowserSession
  let page: Page
  let restarted: ServedApi | undefined
  let serverClosed = false
  let total = 0
  let drawn = 0
  /** `GET /agents` (the whole registry) and answered `GET /snapshot` refreshes, as the page made them. */
  const registryReads: string[] = []
  let refreshes = 0
  let a = ''
  let b = ''

  const graphSettled = (): Promise<unknown> =>
    page
      .locator(`[data-testid="agent-graph"][data-nodes="${drawn}"][data-laid-out="true"]`)
      .waitFor({ timeout: 120_000 })
  const churn = (): Promise<Churn> => page.evaluate('window.churn') as Promise<Churn>
  const readsSince = (n: number): number => registryReads.length - n

  /** Send messages between the two talkers until the page has refreshed its snapshot `count` more times. */
  async function traffic(count: number): Promise<void> {
    const until = refreshes + count
    for (let i = 0; refreshes < until && i < 400; i++) {
      await fx.node.sendMessage({ fromDid: a, toDid: b, message: `m${i}`, authority: OPERATOR })
      await new Promise((r) => setTimeout(r, 250))
    }
    expect(refreshes, 'the page refreshed its snapshot while messages flowed').toBeGreaterThanOrEqual(until)
  }

  beforeAll(async () => {
    await ensureUiBuilt()
    fx = await startApi({}, {}, { name: 'e2e-churn-node' })
    fillRegistry(fx.node, signAgents(FILL, fx.node, 'synced'))
    a = (await fx.node.registerAgent('talker-a', [])).identity.did
    b = (await fx.node.registerAgent('talker-b', [])).identity.did
    total = FILL + 2
    drawn = Math.min(total, MAX_GRAPH_AGENTS)
    browser = await openBrowser()
    page = browser.page
    page.on('request', (r: Request) => {
      if (new URL(r.url()).pathname === '/agents') registryReads.push(r.url())
    })
    page.on('requestfinished', (r: Request) => {
      if (new URL(r.url()).pathname === '/snapshot') refreshes++
    })
    await page.goto(fx.url + '/')
    await page.getByTestId('stream-status').filter({ hasText: 'Live' }).waitFor()
    await graphSettled()
    await page
      .getByTestId('agent-table-more')
      .filter({ hasText: `of ${total} shown` })
      .waitFor()
  }, 180_000)
  afterAll(async () => {
    await browser?.close()
    expectNo500(fx)
    await restarted?.close()
    if (serverClosed) await stopAll([fx?.node])
    else await fx?.stop()
  })

  it('keeps every agent in the graph and the table through snapshot refreshes, and reads the registry once', async () => {
    // one read for the connection: this node's agents and the newest others, each a bounded page (api.ts)
    expect(registryReads.length, 'the registry is read once for the stream connection').toBe(2)
    expect(registryReads.every((u) => new URL(u).searchParams.get('limit') === '10000')).toBe(true)
    await page.evaluate(WATCH)
    const before = registryReads.length
    await traffic(REFRESHES)
    await graphSettled()
    const seen = await churn()
    console.log(
      `agents ${total}, drawn ${drawn}; during ${REFRESHES} refreshes: fewest in the graph ${seen.minDrawn}, ` +
        `taken out of it ${seen.removed}, fewest in the table ${seen.minListed}; GET /agents ${readsSince(before)}`,
    )
    expect(seen.minDrawn, 'agents left the graph during a snapshot refresh').toBe(drawn)
    expect(seen.removed, 'agents were taken out of the graph (and put back elsewhere)').toBe(0)
    expect(seen.minListed, 'agents left the table during a snapshot refresh').toBe(total)
    expect(readsSince(before), 'the whole registry was read again with a refresh').toBe(0)
    expect(browser.errors).toEqual([])
  }, 240_000)

  it('reads the registry once more after a reconnect, and keeps the agents meanwhile', async () => {
    await page.evaluate(WATCH)
    const before = registryReads.length
    serverClosed = true
    await fx.api.close()
    await page.getByTestId('disconnected-banner').waitFor({ timeout: 20_000 })
    restarted = await serveApi(fx.node, testConfig({ port: Number(new URL(fx.url).port) }))
    await page.getByTestId('stream-status').filter({ hasText: 'Live' }).waitFor({ timeout: 30_000 })
    await waitFor(async () => readsSince(before) === 2, { timeout: 30_000, message: 'the registry read again' })
    await traffic(2)
    await graphSettled()
    const seen = await churn()
    console.log(
      `after a reconnect: fewest in the graph ${seen.minDrawn}, taken out of it ${seen.removed}, ` +
        `fewest in the table ${seen.minListed}; GET /agents ${readsSince(before)}`,
    )
    expect(seen.minDrawn, 'agents left the graph after the reconnect').toBe(drawn)
    expect(seen.removed, 'agents were taken out of the graph after the reconnect').toBe(0)
    expect(seen.minListed, 'agents left the table after the reconnect').toBe(total)
    expect(readsSince(before), 'the registry is read once for the new connection').toBe(2)
  }, 240_000)
})
