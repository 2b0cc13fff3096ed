/**
 * Review 122 (decision 0086): the up-front `requestCost` of an `ids` request
 * was charged to the node-wide budget too, so answers that serve nothing (256
 * prefixes the node holds nothing under, ~1.5 KB asked, 0 bytes answered)
 * spent the shared 1,000,000 items: three throwaway PeerIds that download
 * nothing left an honest catch-up 4,088 of 100,000 items in a minute, and 64
 * left a converged peer's round 142 of 300. A request's cost is now its
 * peer's alone, charged all or nothing; the shared budget counts items served.
 */
import { describe, expect, it } from 'vitest'
import { SYNC_SERVE_LIGHT_ITEMS } from '../../node/limits.js'
import { ServeBudget, syncAnswer, syncServeBudget } from '../../node/p2p/serve-budget.js'
import { encodeSyncRequest } from '../../node/p2p/sync.js'
import type { SyncRequest } from '../../node/p2p/types.js'

const PAGE = 512
const EMPTY_IDS: SyncRequest = { kind: 'ids', prefixes: Array.from({ length: 256 }, () => 'fff') }

/** Empty-answer requests `peer` gets answered until refused; counts requests and bytes served. */
async function flood(budget: ServeBudget, peer: string, max = 100_000): Promise<{ requests: number; bytes: number }> {
  const encoded = encodeSyncRequest(EMPTY_IDS)
  let requests = 0
  let bytes = 0
  for (; requests < max; requests++) {
    try {
      for await (const f of syncAnswer(budget, peer, encoded, () => [])) bytes += f.length
    } catch (err) {
      expect((err as { code: string }).code).toBe('RATE_LIMITED')
      break
    }
  }
  return { requests, bytes }
}

/** Page items `peer` is served until refused or `max`. */
async function pull(budget: ServeBudget, peer: string, max: number, size = PAGE): Promise<number> {
  let served = 0
  try {
    while (served < max) {
      const frames = Array.from({ length: Math.min(size, max - served) }, () => new Uint8Array(1))
      for await (const _ of syncAnswer(budget, peer, encodeSyncRequest({ kind: 'page', limit: PAGE }), () => frames))
        served++
    }
  } catch (err) {
    expect((err as { code: string }).code).toBe('RATE_LIMITED')
  }
  return served
}

describe('ids requests that find nothing (review 122, M1)', () => {
  it('three PeerIds that are served nothing do not stop an honest catch-up of 100,000 items', async () => {
    const budget = syncServeBudget(() => 0)
    let requests = 0
    let bytes = 0
    for (let k = 0; k < 3; k++) {
      const r = await flood(budget, `rogue-${k}`)
      requests += r.requests
      bytes += r.bytes
    }
    expect(bytes).toBe(0) // nothing was served to them
    expect(requests).toBe(3 * Math.floor(250_000 / 257)) // each until its own budget is spent
    const honest = await pull(budget, 'honest-catch-up', 100_000)
    expect(honest).toBe(100_000)
  })

  it('64 PeerIds that are served nothing do not stop a converged peer round (the light reserve)', async () => {
    const budget = syncServeBudget(() => 0)
    let bytes = 0
    for (let k = 0; k < 64; k++) bytes += (await flood(budget, `rogue-${k}`)).bytes
    expect(bytes).toBe(0)
    const light = await pull(budget, 'converged', 300, 100)
    expect(light).toBe(300)
  })
})

describe("a request cost is its peer's alone, all or nothing (review 122, L1)", () => {
  it('a request that finds nothing spends no shared item, and a refused charge counts nothing', async () => {
    const budget = syncServeBudget(() => 0)
    const serve = (peer: string, n: number): void => {
      for (let i = 0; i < n; i++) budget.take(peer)
    }
    // heavy peers, then light ones, are served the shared budget down to its last 100 items
    for (let k = 0; k < 3; k++) serve(`heavy-${k}`, 250_000)
    for (let k = 0; k < 61; k++) serve(`light-${k}`, SYNC_SERVE_LIGHT_ITEMS - 1)
    serve('light-61', 250_000 - 61 * (SYNC_SERVE_LIGHT_ITEMS - 1) - 100)
    const spent = (): number => (budget as unknown as { all: { items: number } }).all.items
    expect(spent()).toBe(1_000_000 - 100)
    // an honest light peer's ids round (257 up front) that finds nothing is answered and spends no shared item
    expect((await flood(budget, 'honest-a', 1)).requests).toBe(1)
    expect(spent()).toBe(1_000_000 - 100)
    // the 100 items left still serve another light peer
    expect(await pull(budget, 'honest-b', 1, 1)).toBe(1)
    // a cost its peer's own budget cannot take is refused whole: none of it is counted
    budget.charge('asker', 250_000 - 100)
    expect(() => budget.charge('asker', 257)).toThrow(/budget/)
    expect(() => budget.charge('asker', 100)).not.toThrow()
  })
})
