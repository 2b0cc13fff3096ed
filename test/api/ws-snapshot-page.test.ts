/**
 * The snapshot is bounded and paged (issue 9): `GET /snapshot` and the
 * stream's first event hold at most `limit` agents, connections and
 * revocations and the newest messages within the byte budget; the agents'
 * cursor pages through all of them exactly once; a bad `limit` or `cursor`
 * is a 400 and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { expectNo500, startApi, type ApiFixture } from './api-fixture.js'

const snapshot = { defaultLimit: 3, maxLimit: 5, messageBytes: 8000 }
const BODY = 'm'.repeat(1200)
let fx: ApiFixture
const dids: string[] = []

interface Page {
  agents: { did: string }[]
  messages: { message: string }[]
  page: { limit: number; agents: { total: number; next: string | null }; messages: { truncated: boolean } }
}

beforeAll(async () => {
  fx = await startApi({}, {}, { init: { limits: { snapshot } } })
  for (let i = 0; i < 7; i++) {
    const r = await fx.call('POST', '/agents/register', { name: `agent-${i}` })
    dids.push(r.body.identity.did as string)
  }
  for (let i = 0; i < 4; i++) {
    const r = await fx.call('POST', '/messages/send', { fromDid: dids[0], toDid: dids[1], message: BODY })
    expect(r.status).toBe(200)
  }
}, 60_000)

afterAll(async () => {
  expectNo500(fx)
  await fx?.stop()
})

describe('GET /snapshot', () => {
  it('holds at most the default limit and the byte budget of messages', async () => {
    const r = await fx.anon('GET', '/snapshot')
    expect(r.status).toBe(200)
    const body = r.body as Page
    expect(body.agents).toHaveLength(snapshot.defaultLimit)
    expect(body.page.agents).toEqual({ total: 7, next: String(snapshot.defaultLimit) })
    // as written (JSON, each body twice): ~3 KB a message, so 2 of the 4 fit in the budget, a third would not
    const sizes = body.messages.map((m) => Buffer.byteLength(JSON.stringify(m)))
    expect(body.messages).toHaveLength(2)
    expect(sizes[0]! + sizes[1]!).toBeLessThanOrEqual(snapshot.messageBytes)
    expect(3 * Math.min(...sizes)).toBeGreaterThan(snapshot.messageBytes)
    expect(body.page.messages.truncated).toBe(true)
  })

  it('pages through every agent exactly once with the cursor', async () => {
    const seen: string[] = []
    let cursor: string | null = '0'
    while (cursor !== null) {
      const body = (await fx.anon('GET', `/snapshot?limit=${snapshot.maxLimit}&cursor=${cursor}`)).body as Page
      expect(body.agents.length).toBeLessThanOrEqual(snapshot.maxLimit)
      seen.push(...body.agents.map((a) => a.did))
      cursor = body.page.agents.next
    }
    expect(seen.sort()).toEqual([...dids].sort())
  })

  it('refuses a limit past the maximum, zero, junk or unknown fields with 400', async () => {
    for (const q of [`limit=${snapshot.maxLimit + 1}`, 'limit=0', 'cursor=-1', 'limit=abc', 'all=1']) {
      const r = await fx.anon('GET', `/snapshot?${q}`)
      expect(r.status, q).toBe(400)
      expect(r.body.code, q).toBe('INVALID_INPUT')
    }
  })
})

describe('the stream’s first event', () => {
  it('is the first bounded page', async () => {
    const ws = new WebSocket(fx.url.replace(/^http/, 'ws'))
    const first = await new Promise<{ type: string; data: Page }>((resolve, reject) => {
      ws.once('message', (d: Buffer) => resolve(JSON.parse(d.toString()) as { type: string; data: Page }))
      ws.once('error', reject)
    })
    ws.close()
    expect(first.type).toBe('snapshot')
    expect(first.data.agents).toHaveLength(snapshot.defaultLimit)
    expect(first.data.page.limit).toBe(snapshot.defaultLimit)
  })
})
