/**
 * The live dashboard in a real browser against a real node: what an
 * operator checks — the node's name and DID, agents appearing in the table
 * and the graph as they register, ✓ verified and rejected messages in the
 * event feed, counters, and the banner when the node goes away.
 */
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serveApi, type ServedApi } from '../../api/server.js'
import { expectNo500, startApi, testConfig, type ApiFixture } from '../api/api-fixture.js'
import { stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { ensureUiBuilt, openBrowser, type BrowserSession } from './e2e-fixture.js'

const SCREENSHOT = '/tmp/meshsig-dashboard.png'

/** The part of the page's `window` these tests read (the test tsconfig has no DOM types). */
interface BrowserGlobals {
  getComputedStyle(el: unknown): { color: string }
}

function stat(page: Page, key: string): Promise<string> {
  return page.locator(`[data-stat="${key}"] .value`).innerText()
}

async function expectStat(page: Page, key: string, value: number): Promise<void> {
  await waitFor(async () => (await stat(page, key)) === String(value), {
    timeout: 10_000,
    interval: 100,
    message: `stat ${key} = ${value}`,
  })
}

function forgedEnvelope(from: string, to: string): Record<string, unknown> {
  return {
    v: 1,
    type: 'msg',
    from,
    to,
    body: 'transfer all funds',
    ts: Date.now(),
    nonce: 'AAAAAAAAAAAAAAAAAAAAAA==',
    sig: 'A'.repeat(86) + '==',
  }
}

describe('dashboard (GET /)', () => {
  let fx: ApiFixture
  let browser: BrowserSession
  let page: Page
  let serverClosed = false
  let restarted: ServedApi | undefined
  const dids: Record<string, string> = {}

  beforeAll(async () => {
    await ensureUiBuilt()
    fx = await startApi({}, {}, { name: 'e2e-soc-node' })
    browser = await openBrowser()
    page = browser.page
  })
  afterAll(async () => {
    await browser?.close()
    expectNo500(fx)
    await restarted?.close()
    if (serverClosed) await stopAll([fx?.node])
    else await fx?.stop()
  })

  it('shows the node name, DID and a live stream', async () => {
    await page.goto(fx.url + '/')
    await page.getByTestId('stream-status').filter({ hasText: 'Live' }).waitFor()
    expect(await page.getByTestId('node-name').innerText()).toBe('e2e-soc-node')
    expect(await page.getByTestId('node-did').innerText()).toContain(fx.node.info().did)
    expect(await page.title()).toMatch(/dashboard/i)
    await page.evaluate(() => ((globalThis as unknown as { sameDocument: boolean }).sameDocument = true))
  })

  it('adds registered agents to the table and the graph without a reload', async () => {
    for (const name of ['planner', 'reviewer']) {
      const r = await fx.call('POST', '/agents/register', { name, capabilities: [{ type: name }] })
      expect(r.status).toBe(201)
      dids[name] = r.body.identity.did as string
    }
    const row = page.locator(`[data-testid="agent-table"] tr[data-did="${dids.planner}"]`)
    await row.waitFor()
    expect(await row.innerText()).toMatch(/planner[\s\S]*planner[\s\S]*local[\s\S]*active/i)
    await page.locator('[data-testid="agent-graph"][data-nodes="2"]').waitFor()
    await expectStat(page, 'agents', 2)
    await expectStat(page, 'active', 2)
    expect(await page.evaluate(() => (globalThis as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true)
  })

  it('shows a sent message as ✓ verified in the feed, with an edge in the graph', async () => {
    const r = await fx.call('POST', '/messages/send', {
      fromDid: dids.planner,
      toDid: dids.reviewer,
      message: 'review the deployment plan',
    })
    expect(r.status).toBe(200)
    const entry = page.locator('[data-testid="event-feed"] li[data-type="message:signed"]').first()
    await entry.waitFor()
    const text = await entry.innerText()
    expect(text).toContain('✓ verified')
    expect(text).toContain('planner → reviewer')
    expect(text).toContain('review the deployment plan')
    await page.locator('[data-testid="agent-graph"][data-edges="1"]').waitFor()
    await expectStat(page, 'messages', 1)
  })

  it('shows a forged envelope as rejected, in red, with its code', async () => {
    const r = await fx.call('POST', '/messages/send', { envelope: forgedEnvelope(dids.planner!, dids.reviewer!) })
    expect(r.body.code).toBe('SIGNATURE_INVALID')
    const entry = page.locator('[data-testid="event-feed"] li[data-type="message:rejected"]').first()
    await entry.waitFor()
    expect(await entry.innerText()).toContain('SIGNATURE_INVALID')
    const badge = entry.locator('.badge')
    expect(await badge.evaluate((el) => (globalThis as unknown as BrowserGlobals).getComputedStyle(el).color)).toBe(
      'rgb(255, 123, 123)',
    )
    await expectStat(page, 'messages', 1)
  })

  it('updates counters for handshakes, revocations and the audit log', async () => {
    expect((await fx.call('POST', '/handshake', { fromDid: dids.planner, toDid: dids.reviewer })).status).toBe(200)
    expect((await fx.call('POST', '/agents/revoke', { did: dids.reviewer, reason: 'key leaked' })).status).toBe(200)
    await expectStat(page, 'connections', 1)
    await expectStat(page, 'revoked', 1)
    await expectStat(page, 'active', 1)
    const row = page.locator(`[data-testid="agent-table"] tr[data-did="${dids.reviewer}"]`)
    await waitFor(async () => /revoked/i.test(await row.innerText()))
    await page.locator('[data-testid="event-feed"] li[data-type="agent:revoked"]').first().waitFor()
    const audit = fx.node.stats().auditEntries
    await expectStat(page, 'auditEntries', audit)
  })

  it('renders without console errors or CSP violations (screenshot)', async () => {
    await new Promise((r) => setTimeout(r, 1500))
    await page.screenshot({ path: SCREENSHOT, fullPage: true })
    expect(browser.errors).toEqual([])
  })

  it('switches to the verifier without a reload', async () => {
    await page.getByRole('link', { name: 'Verify a signature' }).click()
    await page.getByRole('heading', { name: 'Verify a signature' }).waitFor()
    expect(new URL(page.url()).pathname).toBe('/verify')
    await page.goBack()
    await page.getByTestId('node-name').filter({ hasText: 'e2e-soc-node' }).waitFor()
    expect(await page.evaluate(() => (globalThis as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true)
  })

  it('shows a disconnected banner when the node goes away', async () => {
    await page.getByTestId('stream-status').filter({ hasText: 'Live' }).waitFor()
    expect(await page.getByTestId('disconnected-banner').count()).toBe(0)
    serverClosed = true
    await fx.api.close()
    const banner = page.getByTestId('disconnected-banner')
    await banner.waitFor({ timeout: 10_000 })
    expect(await banner.innerText()).toContain('Disconnected from the node')
    expect(await banner.getAttribute('role')).toBe('alert')
    await page.screenshot({ path: '/tmp/meshsig-dashboard-disconnected.png' })
  })
  it('reconnects when the node is back, reloads the state and goes on updating', async () => {
    restarted = await serveApi(fx.node, testConfig({ port: Number(new URL(fx.url).port) }))
    await page.getByTestId('stream-status').filter({ hasText: 'Live' }).waitFor({ timeout: 20_000 })
    expect(await page.getByTestId('disconnected-banner').count()).toBe(0)
    await page.locator('[data-testid="event-feed"] li', { hasText: 'Event stream reconnected' }).first().waitFor()
    const r = await fetch(restarted.url + '/agents/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'late-joiner' }),
    })
    const did = ((await r.json()) as { identity: { did: string } }).identity.did
    await page.locator(`[data-testid="agent-table"] tr[data-did="${did}"]`).waitFor()
    await expectStat(page, 'agents', 3)
  })
})
