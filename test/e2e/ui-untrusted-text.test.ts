/**
 * Text from the network outside the feed, in a real browser (docs/dashboard.md,
 * "Text from the network"): the agents table (name, status tooltip), the feed's
 * agent filter and the agent drawer (title, revocation, key events, recent
 * messages) show names through the state's `nameOf` (plain text, the short DID
 * of a name that could pass for another's) and reasons and bodies as plain text.
 * They showed them raw: an agent named "\u202erennalp" read "planner" there, a
 * second "planner" was not told apart, and a reason or a body could be drawn
 * backwards. (The graph's labels and tooltips: test/unit/ui/graph-text.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type ApiFixture } from '../api/api-fixture.js'
import { ensureUiBuilt, openBrowser, type BrowserSession } from './e2e-fixture.js'

const UNSAFE = /[\u200b-\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/

/** The agent filter's width, and that of a copy (same attributes, so the same style) holding one short option. */
const FILTER_WIDTHS = `(() => {
  const select = document.querySelector('[data-testid="feed-agent"]')
  const bare = select.cloneNode(false)
  bare.append(new Option('x'))
  select.after(bare)
  const widths = [select.getBoundingClientRect().width, bare.getBoundingClientRect().width]
  bare.remove()
  return widths
})()`

describe('text from the network outside the feed', () => {
  let fx: ApiFixture
  let browser: BrowserSession
  const dids: Record<string, string> = {}

  const register = async (key: string, name: string): Promise<{ did: string; privateKey: string }> => {
    const r = await fx.anon('POST', '/agents/register', { name })
    expect(r.status).toBe(201)
    const id = (r.body as { identity: { did: string; privateKey: string } }).identity
    dids[key] = id.did
    return id
  }

  beforeAll(async () => {
    await ensureUiBuilt()
    fx = await startApi({}, {}, { name: 'untrusted-text' })
    const planner = await register('planner', 'planner')
    await register('dup', 'planner') // the same name
    const spoof = await register('spoof', '\u202erennalp') // drawn as "planner"
    const s = await fx.anon('POST', '/messages/send', {
      fromDid: spoof.did,
      toDid: planner.did,
      message: 'ok \u202e!devorppa yment',
      privateKey: spoof.privateKey,
    })
    expect(s.status).toBeLessThan(300)
    const rv = await fx.anon('POST', '/agents/revoke', {
      did: spoof.did,
      privateKey: spoof.privateKey,
      reason: 'compromised\u202e nwod ti kool',
    })
    expect(rv.status).toBeLessThan(300)
    browser = await openBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    await fx?.stop()
  })

  it('agents table: names through nameOf, the revocation reason as plain text', async () => {
    const page = browser.page
    await page.goto(fx.url + '/')
    const table = page.getByTestId('agent-table')
    await table.locator(`tr[data-did="${dids.spoof}"]`).waitFor()
    const nameOf = (k: string): Promise<string> => table.locator(`tr[data-did="${dids[k]}"] th.name`).innerText()
    expect(await nameOf('spoof')).toBe('\ufffdrennalp')
    // the short DID is an element of its own, not text of the name
    const tag = (k: string): Promise<string> => table.locator(`tr[data-did="${dids[k]}"] th.name .did-tag`).innerText()
    expect(await nameOf('planner')).toMatch(/^planner did:msig:\S+…\S+$/)
    expect(await tag('planner')).toMatch(/^did:msig:\S+…\S+$/)
    expect(await tag('dup')).toMatch(/^did:msig:\S+…\S+$/)
    expect(await tag('planner')).not.toBe(await tag('dup'))
    expect(await table.locator(`tr[data-did="${dids.spoof}"] th.name .did-tag`).count()).toBe(0)
    const title = await table.locator(`tr[data-did="${dids.spoof}"] .status`).getAttribute('title')
    expect(title).toBe('compromised\ufffd nwod ti kool')
  })

  it('feed agent filter: names told apart, and a width that is not its widest name', async () => {
    const options = await browser.page.getByTestId('feed-agent').locator('option').allInnerTexts()
    expect(options).toHaveLength(4)
    expect(options.filter((o) => /^planner\s+\(did:msig:/.test(o))).toHaveLength(2)
    expect(new Set(options).size).toBe(4)
    expect(options.join('')).not.toMatch(UNSAFE)
    // and its width is set, not that of its widest option: each new agent laid every name out again
    const widths = (await browser.page.evaluate(FILTER_WIDTHS)) as [number, number]
    expect(widths[1]).toBe(widths[0])
  })

  it('drawer: title, revocation reason, key events and message excerpt as plain text', async () => {
    const page = browser.page
    await page.goto(`${fx.url}/#/agents/${encodeURIComponent(dids.spoof!)}`)
    const drawer = page.getByTestId('agent-drawer')
    await drawer.getByTestId('drawer-revoked').waitFor()
    await drawer.getByTestId('drawer-messages').locator('li').first().waitFor()
    await drawer.getByTestId('drawer-key-events').locator('li[data-type="rev"]').waitFor()
    expect(await drawer.locator('#drawer-title').innerText()).toBe('\ufffdrennalp')
    expect(await drawer.getByTestId('drawer-revoked').innerText()).toMatch(/: compromised\ufffd nwod ti kool$/)
    const rev = await drawer.getByTestId('drawer-key-events').locator('li[data-type="rev"]').innerText()
    expect(rev).toMatch(/compromised\ufffd nwod ti kool/)
    const message = await drawer.getByTestId('drawer-messages').innerText()
    expect(message).toMatch(/“ok \ufffd!devorppa yment”/)
    expect(message).toMatch(/\ufffdrennalp → planner\s+did:msig:/) // the tag: an element (a flex item here)
    expect(await drawer.getByTestId('drawer-messages').locator('.did-tag').count()).toBeGreaterThan(0)
    for (const text of [rev, message]) expect(text).not.toMatch(UNSAFE)
  })
})
