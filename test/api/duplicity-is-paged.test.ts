/**
 * `GET /duplicity` answers a page, never every recorded duplicity at once (docs/api.md `GET /duplicity`; attack
 * review H3-3, the same pattern as `GET /connections`). What a user would check: without `limit` the answer holds
 * the default page (100) and a `next`; following `next` reads every row once, newest first; the SDK's
 * `duplicity()` still returns them all.
 *
 * Before, the route read every row (node/store/key-events-repo.ts `duplicities()`, no LIMIT) into one answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MeshsigClient } from '../../node/index.js'
import type { KeyEvent } from '../../node/core/index.js'
import { LIST_PAGE_DEFAULT, LIST_PAGE_MAX } from '../../node/limits.js'
import { startApi, type ApiFixture } from './api-fixture.js'

const ROWS = LIST_PAGE_MAX + 50
let fx: ApiFixture

const idOf = (i: number): string => i.toString(16).padStart(64, '0')

beforeAll(async () => {
  fx = await startApi()
  for (let i = 1; i <= ROWS; i++) {
    const envelope = { type: 'rot', did: `did:msig:dup${i}`, seq: 1 } as unknown as KeyEvent
    const row = { did: `did:msig:dup${i}`, seq: 1, existingId: null, conflictingId: idOf(i), envelope, detectedAt: i }
    fx.node.store.keyEvents.recordDuplicity(row)
  }
}, 60_000)

afterAll(async () => {
  await fx?.stop()
})

interface Page {
  duplicity: { conflictingId: string }[]
  total: number
  next: string | null
}

describe('GET /duplicity', () => {
  it('answers the default page without limit, with a cursor for the rest', async () => {
    const res = await fx.anon('GET', '/duplicity')
    expect(res.status).toBe(200)
    const page = res.body as Page
    expect(page.total).toBe(ROWS)
    expect(page.duplicity).toHaveLength(LIST_PAGE_DEFAULT)
    expect(page.duplicity[0]!.conflictingId).toBe(idOf(ROWS)) // newest first
    expect(page.next).toBe(idOf(ROWS - LIST_PAGE_DEFAULT + 1))
  })

  it('reads every row once by following next, and caps limit', async () => {
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const q: string = cursor === null ? '?limit=5000' : `?limit=5000&cursor=${cursor}`
      const page = (await fx.anon('GET', '/duplicity' + q)).body as Page
      expect(page.duplicity.length).toBeLessThanOrEqual(LIST_PAGE_MAX)
      seen.push(...page.duplicity.map((d) => d.conflictingId))
      cursor = page.next
    } while (cursor !== null)
    expect(seen).toHaveLength(ROWS)
    expect(new Set(seen).size).toBe(ROWS)
  })

  it('the SDK still lists them all', async () => {
    const client = new MeshsigClient({ server: fx.url, token: fx.token })
    const all = await client.duplicity()
    expect(all.duplicity).toHaveLength(ROWS)
    expect(all.total).toBe(ROWS)
  })
})
