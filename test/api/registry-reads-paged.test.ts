/**
 * Reads of the registry cost a page, not the registry (attack review of the
 * local API, decision 0046): `GET /snapshot`, the stream's first event and
 * `GET /agents?limit` ask the store for one page of agents (and of
 * revocations) and count the rest there; `GET /agents` without a limit
 * still answers every agent, the seed's shape `{agents, total}`, read from
 * the store a page at a time; `?limit&cursor` walks it a page at a time
 * (review 92 F2). The store's reads are recorded (a wrapper of
 * the node's own repository) and the answers checked against the whole list.
 * Before, each of them listed every agent and sliced the page: at 10,000
 * agents, 60 stream upgrades kept `GET /health` from answering for 21–24 s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import type { AgentQuery } from '../../node/store/index.js'
import { fillRegistry, signAgents } from '../helpers/registry-fill.js'
import { expectNo500, startApi, type ApiFixture } from './api-fixture.js'

/** More agents than one page of the streamed list (api/chunked-response.ts `AGENT_PAGE`, 256) twice over. */
const AGENTS = 600
let fx: ApiFixture
/** Every query the store's agent list was asked, in order. */
const asked: AgentQuery[] = []
/** Every `limit` the store's revocation list was asked. */
const revokedAsked: (number | undefined)[] = []
let revokedDid: string

beforeAll(async () => {
  fx = await startApi()
  fillRegistry(fx.node, signAgents(AGENTS, fx.node))
  const doomed = (await fx.call('POST', '/agents/register', { name: 'doomed' })).body.identity
  revokedDid = doomed.did
  expect((await fx.call('POST', '/agents/revoke', { did: revokedDid, reason: 'test' })).status).toBe(200)
  const agents = fx.node.store.agents
  const list = agents.list.bind(agents)
  agents.list = (query: AgentQuery = {}) => {
    asked.push(query)
    return list(query)
  }
  const keyEvents = fx.node.store.keyEvents
  const revoked = keyEvents.revoked.bind(keyEvents)
  keyEvents.revoked = (limit?: number) => {
    revokedAsked.push(limit)
    return revoked(limit)
  }
}, 120_000)

afterAll(async () => {
  expectNo500(fx)
  await fx?.stop()
})

/** What the store was asked while `read` ran. */
async function storeReads<T>(read: () => Promise<T>): Promise<{ result: T; agents: AgentQuery[]; revoked: unknown[] }> {
  asked.length = 0
  revokedAsked.length = 0
  const result = await read()
  return { result, agents: [...asked], revoked: [...revokedAsked] }
}

describe('a page of the registry costs one page of the store', () => {
  it('GET /snapshot asks the store for the page of agents and of revocations it answers, and counts the rest', async () => {
    const { result, agents, revoked } = await storeReads(() => fx.anon('GET', '/snapshot?limit=50&cursor=100'))
    expect(result.status).toBe(200)
    expect(agents).toEqual([{ limit: 50, offset: 100 }])
    expect(revoked).toEqual([50])
    const all = (await fx.anon('GET', '/agents')).body.agents as { did: string }[]
    expect(result.body.agents.map((a: { did: string }) => a.did)).toEqual(all.slice(100, 150).map((a) => a.did))
    expect(result.body.page.agents).toEqual({ total: AGENTS + 1, next: '150' })
    expect(result.body.page.revoked).toEqual({ total: 1, truncated: false })
    expect(result.body.revoked.map((r: { did: string }) => r.did)).toEqual([revokedDid])
  })

  it('the stream’s first event does too', async () => {
    const { result: first, agents } = await storeReads(async () => {
      const ws = new WebSocket(fx.url.replace(/^http/, 'ws'))
      const data = await new Promise<{ type: string; data: { agents: unknown[]; page: unknown } }>(
        (resolve, reject) => {
          ws.once('message', (d: Buffer) => resolve(JSON.parse(d.toString())))
          ws.once('error', reject)
        },
      )
      ws.close()
      return data
    })
    const { defaultLimit } = fx.node.bounds().snapshot
    expect(first.type).toBe('snapshot')
    expect(agents).toEqual([{ limit: defaultLimit, offset: 0 }])
    expect(first.data.agents).toHaveLength(defaultLimit)
    expect(first.data.page).toMatchObject({ agents: { total: AGENTS + 1, next: String(defaultLimit) } })
  })

  it('GET /agents?limit asks for that page (and one row more) and counts the filter’s matches in the store', async () => {
    const { result, agents } = await storeReads(() => fx.anon('GET', '/agents?limit=7'))
    expect(agents).toEqual([{ limit: 8 }])
    expect(result.body.agents).toHaveLength(7)
    expect(result.body.total).toBe(AGENTS + 1)
    const revoked = await storeReads(() => fx.anon('GET', '/agents?status=revoked&limit=5'))
    expect(revoked.agents).toEqual([{ status: 'revoked', limit: 6 }])
    expect(revoked.result.body).toMatchObject({ total: 1, agents: [{ did: revokedDid, status: 'revoked' }] })
    expect(revoked.result.body.next).toBeNull()
    const active = (await fx.anon('GET', '/agents?status=active&limit=1')).body
    expect(active.total).toBe(AGENTS)
    expect(active.agents[0].status).toBe('active')
  })

  it('GET /agents?limit&cursor walks every agent once, in the order of the whole list, a page of the store each', async () => {
    const all = ((await fx.anon('GET', '/agents')).body.agents as { did: string }[]).map((a) => a.did)
    const walked: string[] = []
    let cursor: string | null = null
    for (let pages = 0; pages < 100; pages++) {
      const path: string = `/agents?limit=250${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`
      const { result, agents } = await storeReads(() => fx.anon('GET', path))
      expect(result.status).toBe(200)
      expect(result.body.total).toBe(AGENTS + 1)
      expect(agents).toHaveLength(1)
      expect(agents[0]!.limit).toBe(251)
      walked.push(...(result.body.agents as { did: string }[]).map((a) => a.did))
      cursor = result.body.next
      if (cursor === null) break
    }
    expect(walked).toEqual(all)
    const first = (await fx.anon('GET', '/agents?limit=2')).body
    const second = (await fx.anon('GET', `/agents?limit=2&cursor=${encodeURIComponent(first.next)}`)).body
    expect(second.agents.map((a: { did: string }) => a.did)).toEqual(all.slice(2, 4))
  })

  it('a cursor that is no next of a page, or one without a limit, is INVALID_INPUT', async () => {
    const { next } = (await fx.anon('GET', '/agents?limit=1')).body
    for (const path of [
      '/agents?limit=5&cursor=abc',
      '/agents?limit=5&cursor=12.did:web:example.com',
      `/agents?limit=5&cursor=${'9'.repeat(16)}.did:msig:abc`,
      `/agents?cursor=${encodeURIComponent(next)}`,
    ]) {
      const r = await fx.anon('GET', path)
      expect(r.status, path).toBe(400)
      expect(r.body.code, path).toBe('INVALID_INPUT')
    }
  })

  it('GET /agents without a limit answers every agent, newest first, read from the store a page at a time', async () => {
    const { result, agents } = await storeReads(() => fx.anon('GET', '/agents'))
    expect(result.status).toBe(200)
    expect(result.headers['content-type']).toMatch(/^application\/json/)
    const list = result.body as { agents: { did: string; createdAt: string }[]; total: number }
    expect(list.total).toBe(AGENTS + 1)
    expect(list.agents).toHaveLength(AGENTS + 1)
    expect(new Set(list.agents.map((a) => a.did)).size).toBe(AGENTS + 1)
    const times = list.agents.map((a) => Date.parse(a.createdAt))
    expect(times).toEqual([...times].sort((a, b) => b - a))
    expect(agents.length).toBeGreaterThan(2)
    for (const q of agents) expect(q.limit, 'every read of the store is one page').toBeLessThanOrEqual(256)
  })

  it('the NDJSON audit export lists every agent, a line each, read from the store a page at a time', async () => {
    const { result, agents } = await storeReads(() => fx.anon('GET', '/audit/export?format=ndjson'))
    expect(result.status).toBe(200)
    const lines = result.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; agent?: { did: string } })
    const listed = lines.filter((l) => l.type === 'agent').map((l) => l.agent!.did)
    expect(new Set(listed).size).toBe(AGENTS + 1)
    expect(lines.at(-1)).toMatchObject({ type: 'end', lists: { agents: AGENTS + 1, revoked: 1 } })
    expect(agents.length).toBeGreaterThan(2)
    for (const q of agents) expect(q.limit, 'every read of the store is one page').toBeLessThanOrEqual(256)
  })
})
