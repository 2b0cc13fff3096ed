// Attack review 116, F2 (decision 0081): GET /trust/:did (anonymous) built the node's whole trust report (every
// DID, delivering peer and connection with evidence) and kept the connections of one DID; GET /trust answered
// that whole report in one piece. Those rows grow with what the mesh delivers: a 'peer' row per PeerId that
// delivered an accepted envelope, a 'pair' row per two registered DIDs that exchanged a verified message (a
// DID from the mesh is a fresh key, up to limits.registry.maxAgents). The fill is honest: K mesh agents and
// K-1 gossiped messages i -> i+1, through the one acceptance path. Asserted: one DID's trust reads that DID's
// rows, and GET /trust answers pages that together are the whole report. Rows are counted, never time.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMessage, type Envelope } from '../../node/core/index.js'
import type { ApiAgentTrust, ApiTrustPage } from '../../api/types.js'
import { signAgentsWithKeys, fillRegistry } from '../helpers/registry-fill.js'
import { startApi, type ApiFixture } from './api-fixture.js'

const K = 2000
let fx: ApiFixture
let dids: string[] = []

interface Inside {
  readonly ingest: { ingest(e: Envelope, source: unknown, opts: unknown): { ok: boolean } }
}

/** Count every trust row the repository hands out (lists by length, one `get` as one). */
function meterTrustRows(): { rows: number } {
  const repo = fx.node.store.trust as unknown as Record<string, (...a: unknown[]) => unknown>
  const meter = { rows: 0 }
  for (const name of ['list', 'page', 'pairsOf', 'get']) {
    const own = repo[name]
    if (own === undefined) continue
    const fn = own.bind(repo)
    repo[name] = (...args: unknown[]) => {
      const out = fn(...args)
      meter.rows += Array.isArray(out) ? out.length : 1
      return out
    }
  }
  return meter
}

beforeAll(async () => {
  fx = await startApi()
  const agents = signAgentsWithKeys(K, fx.node, 'mesh')
  fillRegistry(
    fx.node,
    agents.map((a) => a.envelopes),
  )
  dids = agents.map((a) => a.did)
  const parts = (fx.node as unknown as { parts: Inside }).parts
  const now = Date.now()
  let ok = 0
  for (let i = 0; i + 1 < K; i += 256) {
    fx.node.store.transaction(() => {
      for (let j = i; j < Math.min(i + 256, K - 1); j++) {
        const m = createMessage(
          { from: agents[j]!.did, to: agents[j + 1]!.did, body: 'hi', ts: now, nonce: randomBytes(16) },
          agents[j]!.key,
        )
        // each delivered by a PeerId of its own (a fresh libp2p key costs nothing)
        if (parts.ingest.ingest(m, { kind: 'gossip', peer: `12D3KooWpeer${j}` }, { fresh: true }).ok) ok++
      }
    })
  }
  if (ok !== K - 1) throw new Error(`only ${ok} of ${K - 1} messages accepted`)
}, 600_000)

afterAll(async () => {
  await fx?.stop()
})

describe('GET /trust/:did', () => {
  it("reads that DID's evidence, not every row the node keeps", async () => {
    const meter = meterTrustRows()
    const res = await fx.anon('GET', `/trust/${dids[K - 1]}`) // one connection (from K-2)
    expect(res.status).toBe(200)
    expect(res.body.connections).toHaveLength(1)
    // before the fix: every 'did', 'revoked', 'peer' and 'pair' row and a 'revoked' get per agent (7,999 here)
    expect(meter.rows).toBeLessThanOrEqual(16)
    expect(res.body.next).toBeNull()
  }, 120_000)

  it('pages the connections by the other DID: `next` is the cursor of the rest', async () => {
    const did = dids[5]!
    const first = (await fx.anon('GET', `/trust/${did}?limit=1`)).body as ApiAgentTrust
    expect(first.connections).toHaveLength(1)
    expect(first.next).not.toBeNull()
    const rest = (await fx.anon('GET', `/trust/${did}?limit=1&cursor=${first.next}`)).body as ApiAgentTrust
    expect(rest.connections).toHaveLength(1)
    expect(rest.next).toBeNull()
    const seen = [...first.connections, ...rest.connections].map((c) => (c.a === did ? c.b : c.a))
    expect(seen.sort()).toEqual([dids[4]!, dids[6]!].sort())
    expect((await fx.anon('GET', `/trust/${did}?cursor=not-a-did`)).status).toBe(400)
  }, 60_000)
})

describe('GET /trust', () => {
  it('answers one page of each list, and the pages together are the whole report', async () => {
    const whole = fx.node.trustReport()
    const meter = meterTrustRows()
    const first = (await fx.anon('GET', '/trust')).body as ApiTrustPage // no limit: the default page
    expect(first.limit).toBe(1000)
    expect(first.agents).toHaveLength(1000)
    expect(first.next).not.toBeNull()
    expect(meter.rows).toBeLessThanOrEqual(4 * 1001 + 1000) // one page of each scope, a 'revoked' get per agent
    const pages: ApiTrustPage[] = []
    let cursor: string | null = ''
    while (cursor !== null && pages.length < 10) {
      const page = (await fx.anon('GET', `/trust?limit=700${cursor ? `&cursor=${cursor}` : ''}`)).body as ApiTrustPage
      for (const list of [page.agents, page.peers, page.connections]) expect(list.length).toBeLessThanOrEqual(700)
      pages.push(page)
      cursor = page.next
    }
    expect(cursor).toBeNull()
    expect(pages.flatMap((p) => p.agents)).toEqual(whole.agents)
    expect(pages.flatMap((p) => p.peers)).toEqual(whole.peers)
    expect(pages.flatMap((p) => p.connections)).toEqual(whole.connections)
    expect(whole.connections).toHaveLength(K - 1)
  }, 120_000)

  it('refuses a cursor that is no next, and a limit out of range, changing nothing', async () => {
    for (const q of ['cursor=%%%', `cursor=${Buffer.from('[1,2]').toString('base64url')}`, 'limit=0', 'limit=1001']) {
      const res = await fx.anon('GET', `/trust?${q}`)
      expect(res.status).toBe(400)
      expect(res.body.code).toBe('INVALID_INPUT')
    }
  }, 60_000)
})
