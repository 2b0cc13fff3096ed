/**
 * `GET /revoked` costs a page, not the list (stop 35's left item; decision
 * 0046 did the same for `GET /agents`): without a `limit` it still answers
 * every revoked DID in the seed's shape `{revoked, total}`, read from the
 * store a page at a time after the last row of the page before; with
 * `?limit=N` the newest N and the whole count, and `&cursor=` (the `next` of
 * the page before) the page after (review 92 F2). Before, every request built
 * the whole list in memory on the event loop, and anyone can register and
 * revoke agents of their own keys by the thousand.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRevocation } from '../../node/core/index.js'
import type { RevokedCursor } from '../../node/store/index.js'
import { fillRegistry, signAgentsWithKeys } from '../helpers/registry-fill.js'
import { expectNo500, startApi, type ApiFixture } from './api-fixture.js'

/** More than twice one page of the streamed list (api/chunked-response.ts `AGENT_PAGE`, 256). */
const REVOKED = 600
let fx: ApiFixture
const asked: { after: RevokedCursor | undefined; limit: number }[] = []

beforeAll(async () => {
  fx = await startApi()
  const agents = signAgentsWithKeys(REVOKED, fx.node, 'gone')
  fillRegistry(
    fx.node,
    agents.map((a) => a.envelopes),
  )
  // every revocation at the same signed time: the list is in the order the node learned them
  const ts = Date.now()
  const revocations = agents.map((a) => [createRevocation(fx.node.store.keyEvents.state(a.did)!, a.key, 'retired', ts)])
  fillRegistry(fx.node, revocations)
  const repo = fx.node.store.keyEvents
  const page = repo.revokedAfter.bind(repo)
  repo.revokedAfter = (after, limit) => {
    asked.push({ after, limit })
    return page(after, limit)
  }
}, 120_000)

afterAll(async () => {
  expectNo500(fx)
  await fx?.stop()
})

describe('GET /revoked', () => {
  it('without a limit answers every revoked DID, newest first, the store read a page at a time', async () => {
    asked.length = 0
    const r = await fx.anon('GET', '/revoked')
    expect(r.status).toBe(200)
    expect(r.body.total).toBe(REVOKED)
    const dids = (r.body.revoked as { did: string }[]).map((v) => v.did)
    expect(dids).toEqual(fx.node.revoked().map((v) => v.did))
    expect(new Set(dids).size).toBe(REVOKED)
    expect(asked.map((a) => a.limit)).toEqual([256, 256, 256])
    expect(asked[0]!.after).toBeUndefined()
    expect(asked[1]!.after).toEqual({ place: REVOKED - 255 })
    expect(r.body.revoked[0]).toMatchObject({ reason: 'retired', by: 'self', name: expect.stringMatching(/^gone-/) })
  })

  it('?limit=N answers the newest N and counts them all; a bad limit is INVALID_INPUT', async () => {
    const r = await fx.anon('GET', '/revoked?limit=5')
    expect(r.status).toBe(200)
    expect(r.body.total).toBe(REVOKED)
    expect((r.body.revoked as { did: string }[]).map((v) => v.did)).toEqual(fx.node.revoked(5).map((v) => v.did))
    const bad = await fx.anon('GET', '/revoked?limit=-1')
    expect(bad.status).toBe(400)
    expect(bad.body.code).toBe('INVALID_INPUT')
  })

  it('?limit&cursor walks every revoked DID once, in the list’s order, a page of the store each', async () => {
    const all = fx.node.revoked().map((v) => v.did)
    const walked: string[] = []
    let cursor: string | null = null
    for (let pages = 0; pages < 100; pages++) {
      asked.length = 0
      const path: string = `/revoked?limit=128${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`
      const r = await fx.anon('GET', path)
      expect(r.status).toBe(200)
      expect(r.body.total).toBe(REVOKED)
      expect(asked.map((a) => a.limit)).toEqual([129])
      walked.push(...(r.body.revoked as { did: string }[]).map((v) => v.did))
      cursor = r.body.next
      if (cursor === null) break
    }
    expect(walked).toEqual(all)
    const noLimit = await fx.anon('GET', `/revoked?cursor=1.${all[0]}`)
    expect(noLimit.status).toBe(400)
    expect(noLimit.body.code).toBe('INVALID_INPUT')
  })
})
