import { describe, expect, it } from 'vitest'
import { SYNC_SERVE_ITEMS_NODE, SYNC_SERVE_LIGHT_ITEMS, SYNC_SERVE_RESERVE } from '../../node/limits.js'
import {
  requestCost,
  ServeBudget,
  SYNC_SERVE_ITEMS_PER_PEER,
  SYNC_SERVE_WINDOW_MS,
  syncAnswer,
  syncServeBudget,
} from '../../node/p2p/serve-budget.js'
import { encodeSyncRequest } from '../../node/p2p/sync.js'
import type { SyncRequest } from '../../node/p2p/types.js'

const PAGE = 512

/** Items `peer` is served by answers of `size` items until refused or `max` are served. */
async function pull(budget: ServeBudget, peer: string, max: number, size = PAGE): Promise<number> {
  let served = 0
  try {
    while (served < max) {
      const frames = Array.from({ length: Math.min(size, max - served) }, () => new Uint8Array(1))
      for await (const _ of syncAnswer(budget, peer, encodeSyncRequest({ kind: 'page', limit: PAGE }), () => frames)) {
        served++
      }
    }
  } catch (err) {
    expect((err as { code: string }).code).toBe('RATE_LIMITED')
  }
  return served
}

/** Answers `peer` gets to `request` (each empty) until the first refusal, at most `max`. */
async function emptyAnswers(budget: ServeBudget, peer: string, request: SyncRequest, max: number): Promise<number> {
  const encoded = encodeSyncRequest(request)
  for (let n = 0; n < max; n++) {
    try {
      for await (const _ of syncAnswer(budget, peer, encoded, () => [])) void _
    } catch (err) {
      expect((err as { code: string }).code).toBe('RATE_LIMITED')
      return n
    }
  }
  return max
}

describe('sync serving over throwaway PeerIds (review 120, L1; docs/protocol.md §9, Budgets)', () => {
  it('serves all peers together at most the node-wide budget per window, each at most its own', async () => {
    let now = 0
    const budget = syncServeBudget(() => now)
    const served: number[] = []
    // three take the shared budget but its reserve; the others draw on the reserve, each as a light peer
    for (let k = 0; k < 70; k++) served.push(await pull(budget, `sybil-${k}`, SYNC_SERVE_ITEMS_PER_PEER))
    expect(Math.max(...served)).toBeLessThanOrEqual(SYNC_SERVE_ITEMS_PER_PEER)
    expect(served.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(SYNC_SERVE_ITEMS_NODE)
    expect(served.at(-1)).toBe(0) // the last came after the node-wide budget was spent
    now = SYNC_SERVE_WINDOW_MS // a new window refills it
    expect(await pull(budget, 'sybil-69', PAGE)).toBe(PAGE)
  })

  it('keeps the reserve for light peers: a converged peer is still served once heavy ones are refused', async () => {
    const budget = syncServeBudget(() => 0)
    let heavy = 0
    for (let k = 0; k < 8; k++) heavy += await pull(budget, `sybil-${k}`, SYNC_SERVE_ITEMS_PER_PEER)
    // each heavy peer drew on the reserve only while it was light
    expect(heavy).toBeLessThanOrEqual(SYNC_SERVE_ITEMS_NODE - SYNC_SERVE_RESERVE + 8 * SYNC_SERVE_LIGHT_ITEMS)
    // a round of fingerprints and a few items, well under the light bound
    expect(await pull(budget, 'honest', 300, 100)).toBe(300)
    // a light peer draws on the reserve only up to the light bound
    const fresh = await pull(budget, 'fresh', SYNC_SERVE_ITEMS_PER_PEER)
    expect(fresh).toBeGreaterThanOrEqual(SYNC_SERVE_LIGHT_ITEMS - PAGE)
    expect(fresh).toBeLessThanOrEqual(SYNC_SERVE_LIGHT_ITEMS + PAGE)
  })
})

describe('a sync request costs what it asks for (review 120, M2)', () => {
  it('charges an ids request one item and one per prefix named, duplicates too, before any work', () => {
    expect(requestCost({ kind: 'ids', prefixes: Array.from({ length: 256 }, () => '0ab') })).toBe(257)
    expect(requestCost({ kind: 'page', limit: 512 })).toBe(1)
    expect(requestCost({ kind: 'fp', prefixes: [''], children: true })).toBe(1)
  })

  it('refuses answers that find nothing once their cost spent the peer budget, without calling the provider', async () => {
    const budget = new ServeBudget(1_000, 60_000, () => 0)
    const request: SyncRequest = { kind: 'ids', prefixes: Array.from({ length: 99 }, () => 'fff') }
    expect(await emptyAnswers(budget, 'rogue', request, 100)).toBe(10)
    let asked = 0
    const refused = syncAnswer(budget, 'rogue', encodeSyncRequest(request), () => {
      asked++
      return []
    })
    await expect(refused.next()).rejects.toThrow(/budget of 1000 items/)
    expect(asked).toBe(0)
    expect(await emptyAnswers(budget, 'other', { kind: 'page', limit: 1 }, 1_000)).toBe(1_000)
  })
})
