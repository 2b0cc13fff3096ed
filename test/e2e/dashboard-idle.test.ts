/**
 * No false alarm while idle (issue 14): two nodes with a revoked agent in
 * their registry, anti-entropy every 5 s, the dashboard open for 70 s. The
 * revoked agent's stored registration and key events travel again in every
 * sync round; they are duplicates, not rejections, so the feed shows no red
 * line and neither node emits `message:rejected`. At the end the dashboard
 * is still live (a message sent then shows up).
 */
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MeshNode } from '../../node/mesh-node.js'
import type { NodeEvent } from '../../node/events.js'
import { expectNo500, startApi, type ApiFixture } from '../api/api-fixture.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { ensureUiBuilt, openBrowser, type BrowserSession } from './e2e-fixture.js'

const ANTI_ENTROPY_MS = 5_000
const IDLE_MS = 70_000

describe('dashboard while idle with a revoked agent (issue 14)', () => {
  let fx: ApiFixture
  let other: MeshNode
  let browser: BrowserSession
  let page: Page
  const rejected: NodeEvent[] = []

  beforeAll(async () => {
    await ensureUiBuilt()
    fx = await startApi({}, {}, { name: 'idle-node', init: { antiEntropyMs: ANTI_ENTROPY_MS } })
    other = await startNode({
      name: 'idle-peer',
      peers: [fx.node.info().multiaddrs[0]!],
      init: { antiEntropyMs: ANTI_ENTROPY_MS },
    })
    browser = await openBrowser()
    page = browser.page
  })
  afterAll(async () => {
    await browser?.close()
    expectNo500(fx)
    await fx?.stop()
    await stopAll([other])
  })

  it('raises no REVOKED alarm over 70 idle seconds of sync rounds', async () => {
    const a = await fx.call('POST', '/agents/register', { name: 'retired' })
    const b = await fx.call('POST', '/agents/register', { name: 'keeper' })
    const did = a.body.identity.did as string
    expect((await fx.call('POST', '/agents/rotate-key', { did })).status).toBe(200)
    expect((await fx.call('POST', '/agents/revoke', { did, reason: 'decommissioned' })).status).toBe(200)
    await waitFor(() => other.store.keyEvents.state(did)?.revoked, {
      timeout: 20_000,
      message: 'peer knows the revocation',
    })
    for (const node of [fx.node, other]) node.events.subscribe((e) => e.type === 'message:rejected' && rejected.push(e))
    await page.goto(fx.url + '/')
    await page.getByTestId('stream-status').filter({ hasText: 'Live' }).waitFor()
    const rounds: { rejected: number }[] = []
    const started = Date.now()
    while (Date.now() - started < IDLE_MS) {
      await new Promise((r) => setTimeout(r, ANTI_ENTROPY_MS))
      // besides the periodic rounds, pull the whole registry once per round ourselves
      const result = await other.syncFrom(fx.node.info().peerId)
      if (result) rounds.push(result)
    }
    expect(rounds.length).toBeGreaterThanOrEqual(5)
    expect(rounds.map((r) => r.rejected)).toEqual(rounds.map(() => 0))
    expect(rejected).toEqual([])
    expect(await page.locator('[data-testid="event-feed"] li[data-kind="rejection"]').count()).toBe(0)
    // the feed renders only its newest rows: the rejections filter shows any rejection among all it keeps
    await page.getByTestId('feed-rejections').check()
    await page.locator('#feed-title', { hasText: '0 shown' }).waitFor()
    expect(await page.locator('[data-testid="event-feed"] li').count()).toBe(0)
    await page.getByTestId('feed-rejections').uncheck()
    const sent = { fromDid: b.body.identity.did, toDid: null, message: 'still here' }
    expect((await fx.call('POST', '/messages/send', sent)).status).toBe(200)
    await page.locator('[data-testid="event-feed"] li', { hasText: 'still here' }).waitFor()
    expect(browser.errors).toEqual([])
  }, 150_000)
})
