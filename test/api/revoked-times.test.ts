/**
 * Revocation times in the lists (review of stop 36's paging):
 *
 * 1. A signed time is the signer's. One past 8.64e15 ms (the latest a
 *    JavaScript Date holds) was accepted, and every view that showed it as an
 *    ISO time threw: one DID's own revocation took GET /revoked, GET /agents,
 *    GET /keys/:did and the audit export down for everyone. Signed times are
 *    now held to what a Date holds (`MAX_TS`), and views format times with
 *    `isoTime`, which never throws.
 * 2. The streamed list's `total` was counted when the answer began; a
 *    revocation that arrived while the pages were read, signed at an older
 *    time (a peer's, by sync), sorted after the cursor and was listed but not
 *    counted. `total` now counts what the answer lists; and since migration
 *    19 the list is in the order the node learned the revocations, so a late
 *    one heads the next answer instead (review 96's left item).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRevocation, isoTime, MAX_TS } from '../../node/core/index.js'
import { fillRegistry, signAgentsWithKeys } from '../helpers/registry-fill.js'
import { startApi, type ApiFixture } from './api-fixture.js'

let fx: ApiFixture

beforeAll(async () => {
  fx = await startApi()
}, 120_000)

afterAll(async () => {
  await fx?.stop()
})

async function getOk(path: string): Promise<{ status: number; body: unknown; err?: string }> {
  try {
    const r = await fx.call('GET', path)
    return { status: r.status, body: r.body }
  } catch (err) {
    return { status: -1, body: null, err: String(err) }
  }
}

describe('revocation times in the lists', () => {
  it('a revocation learned while the pages are read, signed earlier, heads the next list; total counts what is listed', async () => {
    const agents = signAgentsWithKeys(600, fx.node, 'page')
    fillRegistry(
      fx.node,
      agents.map((a) => a.envelopes),
    )
    const ts = Date.now()
    const rev = (a: (typeof agents)[number], at: number) => [
      createRevocation(fx.node.store.keyEvents.state(a.did)!, a.key, 'retired', at),
    ]
    fillRegistry(
      fx.node,
      agents.slice(0, 599).map((a) => rev(a, ts)),
    )
    // the last one is revoked (by sync, signed a day ago) right after the first page was read
    const late = agents[599]!
    const repo = fx.node.store.keyEvents
    const page = repo.revokedAfter.bind(repo)
    let done = false
    repo.revokedAfter = (after, limit) => {
      const out = page(after, limit)
      if (!done) {
        done = true
        fillRegistry(fx.node, [rev(late, ts - 86_400_000)])
      }
      return out
    }
    const r = await fx.anon('GET', '/revoked')
    repo.revokedAfter = page
    expect(r.status).toBe(200)
    const listed = (r.body.revoked as { did: string }[]).map((v) => v.did)
    // the answer's total must count what it lists: the late one is above the first page, for the next reader
    expect(listed).not.toContain(late.did)
    expect(r.body.total).toBe(listed.length)
    const next = await fx.anon('GET', '/revoked?limit=1')
    expect((next.body.revoked as { did: string }[]).map((v) => v.did)).toEqual([late.did])
  }, 120_000)

  it('a revocation signed past what a Date holds is refused, and the lists keep answering', async () => {
    const [a] = signAgentsWithKeys(1, fx.node, 'future')
    fillRegistry(fx.node, [a!.envelopes])
    const far = 8_700_000_000_000_000 // a safe integer, past any Date
    const state = fx.node.store.keyEvents.state(a!.did)!
    expect(() => createRevocation(state, a!.key, 'bye', far)).toThrow(/ts/)
    // as a peer or client would hand it over: refused before its signature is looked at
    const signed = createRevocation(state, a!.key, 'bye', MAX_TS)
    const r = await fx.anon('POST', '/agents/revoke', { envelope: { ...signed, ts: far } })
    expect(r.status).toBe(400)
    expect(fx.node.store.keyEvents.state(a!.did)?.revoked ?? null).toBeNull()
    // the latest time a Date holds is a time like any other
    expect((await fx.anon('POST', '/agents/revoke', { envelope: signed })).status).toBe(200)
    const results: Record<string, number> = {}
    for (const path of ['/revoked', '/revoked?limit=5', '/agents', `/keys/${a!.did}`, '/audit/export']) {
      results[path] = (await getOk(path)).status
    }
    expect(results).toEqual({
      '/revoked': 200,
      '/revoked?limit=5': 200,
      '/agents': 200,
      [`/keys/${a!.did}`]: 200,
      '/audit/export': 200,
    })
  }, 120_000)

  it('a time a Date cannot hold, stored before, is shown as the nearest one it can', () => {
    expect(isoTime(8_700_000_000_000_000)).toBe('+275760-09-13T00:00:00.000Z')
    expect(isoTime(Number.NaN)).toBe('1970-01-01T00:00:00.000Z')
    expect(isoTime(1_764_000_000_000)).toBe(new Date(1_764_000_000_000).toISOString())
  })
})
