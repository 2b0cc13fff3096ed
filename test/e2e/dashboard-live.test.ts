/**
 * Issue 14 in a real browser against a real node: the agent drawer opened by
 * a click on the graph and by its URL (a reload shows the same agent),
 * particles on the overlay canvas while messages flow, the sound toggle,
 * feed filters, every refusal the node makes (forgery with its claimed
 * sender, DUPLICATE, a revoked sender's 403), a rotation shown as a
 * rotation, and the phone layout (390×844) scrolling over the graph.
 * Screenshots: /tmp/meshsig-dashboard-1440.png, /tmp/meshsig-dashboard-390.png.
 */
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectNo500, startApi, type ApiFixture } from '../api/api-fixture.js'
import { waitFor } from '../helpers/wait-for.js'
import { ensureUiBuilt, openBrowser, type BrowserSession } from './e2e-fixture.js'

/** Lit pixels of the particle overlay (alpha > 0), counted in the page. */
const LIT_PIXELS = `(() => {
  const c = document.querySelector('[data-testid="graph-particles"]')
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data
  let n = 0, sx = 0, sy = 0
  for (let i = 3; i < d.length; i += 4) if (d[i] > 0) { n++; const p = (i - 3) / 4; sx += p % c.width; sy += Math.floor(p / c.width) }
  return { n, x: n ? Math.round(sx / n) : -1, y: n ? Math.round(sy / n) : -1 }
})()`

/**
 * Where the particles are: the centre of the overlay's lit pixels, whether
 * the graph canvas under that centre holds an edge's colour (blue #5f82bd:
 * blue well above red and green) within 3 pixels, and whether it holds any
 * drawing (near the ends a node covers the edge).
 */
const LIT_ON_EDGE = `(() => {
  const o = document.querySelector('[data-testid="graph-particles"]')
  const d = o.getContext('2d').getImageData(0, 0, o.width, o.height).data
  let n = 0, sx = 0, sy = 0
  for (let i = 3; i < d.length; i += 4) if (d[i] > 0) { n++; const p = (i - 3) / 4; sx += p % o.width; sy += Math.floor(p / o.width) }
  if (n === 0) return { n, onEdge: false }
  const x = Math.round(sx / n), y = Math.round(sy / n)
  const g = document.querySelector('[data-testid="agent-graph"] canvas')
  const e = g.getContext('2d').getImageData(x - 3, y - 3, 7, 7).data
  let onEdge = false, onGraph = false
  for (let i = 0; i < e.length; i += 4) {
    if (e[i + 3] > 0) onGraph = true
    if (e[i + 3] > 0 && e[i + 2] > e[i] + 50 && e[i + 2] > e[i + 1] + 30) onEdge = true
  }
  return { n, onEdge, onGraph, x, y }
})()`

function feedLine(page: Page, text: string): ReturnType<Page['locator']> {
  return page.locator('[data-testid="event-feed"] li', { hasText: text })
}

function forged(from: string, to: string): Record<string, unknown> {
  const sig = 'A'.repeat(86) + '=='
  return { v: 1, type: 'msg', from, to, body: 'wire 1M', ts: Date.now(), nonce: 'AAAAAAAAAAAAAAAAAAAAAA==', sig }
}

describe('dashboard: drawer, particles, sound, feed triage, phone (issue 14)', () => {
  let fx: ApiFixture
  let browser: BrowserSession
  let page: Page
  const did: Record<string, string> = {}

  async function register(name: string): Promise<string> {
    const r = await fx.call('POST', '/agents/register', { name, capabilities: [{ type: `${name}-work` }] })
    expect(r.status).toBe(201)
    did[name] = r.body.identity.did as string
    return did[name]!
  }

  beforeAll(async () => {
    await ensureUiBuilt()
    fx = await startApi({}, {}, { name: 'e2e-live-node' })
    browser = await openBrowser()
    page = browser.page
    await page.setViewportSize({ width: 1440, height: 900 })
  })
  afterAll(async () => {
    await browser?.close()
    expectNo500(fx)
    await fx?.stop()
  })

  it('opens the agent drawer by a click on the graph', async () => {
    await register('planner')
    await page.goto(fx.url + '/')
    const graph = page.locator('[data-testid="agent-graph"][data-laid-out="true"][data-nodes="1"]')
    await graph.waitFor()
    // one agent, fitted once: it sits in the middle of the canvas
    const box = (await graph.boundingBox())!
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2)
    const drawer = page.getByTestId('agent-drawer')
    await drawer.waitFor()
    expect(await drawer.getAttribute('data-did')).toBe(did.planner)
    expect(new URL(page.url()).hash).toBe(`#/agents/${encodeURIComponent(did.planner!)}`)
    const text = await drawer.innerText()
    expect(text).toContain(did.planner)
    expect(text).toMatch(/planner-work/)
    expect(text).toMatch(/Hosted by\s+this node \(e2e-live-node\)/)
    expect(await drawer.getByTestId('drawer-key-events').innerText()).toMatch(/#0 inception/)
  })

  it('opens the same drawer from its URL after a reload, and closes it', async () => {
    await register('reviewer')
    await fx.call('POST', '/messages/send', { fromDid: did.planner, toDid: did.reviewer, message: 'check the plan' })
    await page.reload()
    const drawer = page.getByTestId('agent-drawer')
    await drawer.waitFor()
    expect(await drawer.getAttribute('data-did')).toBe(did.planner)
    await waitFor(async () => /1 verified of 1/.test(await drawer.getByTestId('drawer-interactions').innerText()))
    expect(await drawer.getByTestId('drawer-messages').innerText()).toContain('planner → reviewer: “check the plan”')
    await page.getByRole('button', { name: 'Close agent details' }).click()
    await drawer.waitFor({ state: 'detached' })
    expect(new URL(page.url()).hash).toBe('')
  })

  it('draws particles along the edge while messages flow, and nothing when idle', async () => {
    await page.locator('[data-testid="agent-graph"][data-edges="1"][data-laid-out="true"]').waitFor()
    expect((await page.evaluate(LIT_PIXELS)) as { n: number }).toMatchObject({ n: 0 })
    const seen: { n: number; x: number; y: number }[] = []
    for (let i = 0; i < 40; i++) {
      if (i < 16)
        await fx.call('POST', '/messages/send', { fromDid: did.planner, toDid: did.reviewer, message: `tick ${i}` })
      seen.push((await page.evaluate(LIT_PIXELS)) as { n: number; x: number; y: number })
      await new Promise((r) => setTimeout(r, 40))
    }
    const lit = seen.filter((s) => s.n > 0)
    expect(lit.length).toBeGreaterThan(2)
    // the dots move: their centre changes from sample to sample
    expect(new Set(lit.map((s) => `${s.x},${s.y}`)).size).toBeGreaterThan(1)
    // and they travel along the edge the graph draws between the two agents
    const along: { n: number; onEdge: boolean; onGraph: boolean }[] = []
    for (let i = 0; i < 12; i++) {
      await fx.call('POST', '/messages/send', { fromDid: did.reviewer, toDid: did.planner, message: `back ${i}` })
      along.push((await page.evaluate(LIT_ON_EDGE)) as { n: number; onEdge: boolean; onGraph: boolean })
      await new Promise((r) => setTimeout(r, 60))
    }
    const litAlong = along.filter((s) => s.n > 0)
    expect(litAlong.length).toBeGreaterThan(2)
    // every sample sits on what the graph draws (the edge, or a node's disc where a dot leaves or arrives),
    // and dots are seen on the edge's own pixels between the two (near the ends the disc hides the edge)
    expect(litAlong.filter((s) => !s.onGraph)).toEqual([])
    expect(litAlong.filter((s) => s.onEdge).length).toBeGreaterThan(0)
    await waitFor(async () => ((await page.evaluate(LIT_PIXELS)) as { n: number }).n === 0, { timeout: 5000 })
  })

  it('toggles sound on, remembers it across a reload, without console errors', async () => {
    const toggle = page.getByTestId('sound-toggle')
    expect(await toggle.getAttribute('aria-pressed')).toBe('false')
    await toggle.click()
    expect(await toggle.getAttribute('aria-pressed')).toBe('true')
    expect(await page.evaluate(`localStorage.getItem('meshsig.sound')`)).toBe('on')
    await fx.call('POST', '/messages/send', { fromDid: did.reviewer, toDid: did.planner, message: 'beep' })
    await feedLine(page, 'beep').first().waitFor()
    await page.reload()
    await page.getByTestId('stream-status').filter({ hasText: 'Live' }).waitFor()
    expect(await page.getByTestId('sound-toggle').getAttribute('aria-pressed')).toBe('true')
    await page.getByTestId('sound-toggle').click()
    expect(await page.evaluate(`localStorage.getItem('meshsig.sound')`)).toBe('off')
    expect(browser.errors).toEqual([])
  })

  it('shows every refusal: a forgery with its claimed sender, a duplicate, a revoked sender', async () => {
    await register('courier')
    const sent = await fx.call('POST', '/messages/send', { fromDid: did.courier, toDid: did.planner, message: 'once' })
    expect((await fx.call('POST', '/messages/send', { envelope: sent.body.envelope })).body.code).toBe('DUPLICATE')
    const forgery = await fx.call('POST', '/messages/send', { envelope: forged(did.planner!, did.reviewer!) })
    expect(forgery.body.code).toBe('SIGNATURE_INVALID')
    expect((await fx.call('POST', '/agents/revoke', { did: did.courier, reason: 'stolen laptop' })).status).toBe(200)
    const late = { fromDid: did.courier, toDid: did.planner, message: 'after revocation' }
    expect((await fx.call('POST', '/messages/send', late)).status).toBe(403)
    await feedLine(page, 'Refused a duplicate').first().waitFor()
    expect(await feedLine(page, 'Rejected a forgery').first().innerText()).toContain('claimed sender planner')
    expect(await feedLine(page, 'sender revoked').first().innerText()).toMatch(/REVOKED[\s\S]*claimed sender courier/)
  })

  it('filters the feed: rejections only, by agent, by type, by text', async () => {
    const feed = page.getByTestId('event-feed')
    await page.getByTestId('feed-rejections').check()
    const kinds = await feed.locator('li').evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')))
    expect(kinds.length).toBeGreaterThanOrEqual(3)
    expect(new Set(kinds)).toEqual(new Set(['rejection']))
    await page.getByTestId('feed-rejections').uncheck()
    await page.getByTestId('feed-agent').selectOption(did.courier!)
    expect(await feed.innerText()).not.toContain('check the plan')
    expect(await feed.innerText()).toContain('courier')
    await page.getByTestId('feed-agent').selectOption('')
    await page.getByTestId('feed-kind').selectOption('message')
    const types = await feed.locator('li').evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')))
    expect(new Set(types)).toEqual(new Set(['message']))
    await page.getByTestId('feed-kind').selectOption('')
    await page.getByTestId('feed-search').fill('“ONCE”')
    const found = await feed.locator('li').count()
    await page.getByTestId('feed-search').fill('')
    expect(found).toBe(1)
  })

  it('shows a key rotation as a rotation, not as a new registration', async () => {
    const registered = await feedLine(page, 'Agent registered').count()
    expect((await fx.call('POST', '/agents/rotate-key', { did: did.reviewer })).status).toBe(200)
    await feedLine(page, 'Key rotated').first().waitFor()
    expect(await feedLine(page, 'Key rotated').first().innerText()).toContain('reviewer · key #1')
    await feedLine(page, 'Registration renewed').first().waitFor()
    expect(await feedLine(page, 'Agent registered').count()).toBe(registered)
    await page.goto(`${fx.url}/#/agents/${encodeURIComponent(did.reviewer!)}`)
    const events = page.getByTestId('drawer-key-events')
    await events.locator('li[data-type="rot"]').waitFor()
    expect(await events.innerText()).toMatch(/#0 inception[\s\S]*#1 rotation/)
    await page.getByRole('button', { name: 'Close agent details' }).click()
    await page.screenshot({ path: '/tmp/meshsig-dashboard-1440.png' })
    expect(browser.errors).toEqual([])
  })

  it('on a phone (390×844): compact counters, agents as cards, the page scrolls over the graph', async () => {
    const phone = await browser.browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 2,
      colorScheme: 'dark',
    })
    const p = await phone.newPage()
    const errors: string[] = []
    p.on('console', (m) => m.type() === 'error' && errors.push(m.text()))
    await p.goto(fx.url + '/')
    const graph = p.locator('[data-testid="agent-graph"][data-laid-out="true"]')
    await graph.waitFor()
    expect(await p.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390)
    expect(await p.locator('[data-testid="agent-table"] thead').isVisible()).toBe(false)
    await graph.scrollIntoViewIfNeeded()
    const before = (await p.evaluate('window.scrollY')) as number
    const box = (await graph.boundingBox())!
    // a finger swipe upwards starting on the graph (real touch events through the compositor)
    const cdp = await phone.newCDPSession(p)
    const x = Math.round(box.x + box.width / 2)
    const y = Math.round(box.y + box.height / 2)
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x, y }] })
    for (let i = 1; i <= 10; i++)
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x, y: y - i * 20 }] })
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] })
    await waitFor(async () => ((await p.evaluate('window.scrollY')) as number) > before + 100, { timeout: 5000 })
    await p.evaluate('window.scrollTo(0, 0)')
    await p.screenshot({ path: '/tmp/meshsig-dashboard-390.png', fullPage: true })
    expect(errors).toEqual([])
    await phone.close()
  })
})
