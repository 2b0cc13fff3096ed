/**
 * A hostile seed (or whoever answers for its name) that stays connected over libp2p and makes its /health
 * answer alternate between one good answer and a few failures (review 111): each good answer had restarted
 * the backoff from 3 s, so the failed re-checks came at 3, 6, 12 s, ~260 requests an hour. While its peer is
 * connected a seed is asked at most once a stable period (30 s): 120 an hour, plus slack (160).
 */
import { afterEach, beforeEach, expect, it, vi } from 'vitest'
import type { MeshP2P } from '../../../node/p2p/index.js'
import { PeerDialer, type SeedResolver } from '../../../node/services/peer-dialer.js'

const SEED = 'ws://server1:4888'
const SEED_ID = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
const SELF_ID = '12D3KooWMGrF9vqz2UCUpPbSLQhkvqQS5CXE3GGWKgwK6nU7kQMC'
const HOUR = 60 * 60 * 1000

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

for (const failsPerCycle of [1, 2, 3]) {
  it(`a connected seed answering ok once then failing ${failsPerCycle}x is asked at most ~120 times an hour`, async () => {
    const connected = new Set<string>([SEED_ID]) // the seed's libp2p connection stays up throughout
    let answers = 0
    let dials = 0
    let warnings = 0
    const resolve: SeedResolver = () => {
      answers += 1
      // answer 1 ok, then failsPerCycle failures, then ok, ...
      if ((answers - 1) % (failsPerCycle + 1) === 0) return Promise.resolve([`/ip4/192.0.2.1/tcp/1/ws/p2p/${SEED_ID}`])
      return Promise.reject(new Error('health: 503'))
    }
    const p2p = {
      peerId: SELF_ID,
      peers: () => [...connected].map((peerId) => ({ peerId })),
      dial: (addr: string) => {
        dials += 1
        return Promise.resolve(addr.slice(addr.lastIndexOf('/p2p/') + 5))
      },
    } as unknown as MeshP2P
    const dialer = new PeerDialer(
      () => p2p,
      () => {
        warnings += 1
      },
      { seeds: [SEED], resolve },
    )
    dialer.start()
    await vi.advanceTimersByTimeAsync(HOUR)
    dialer.stop()
    console.log(`fails/cycle ${failsPerCycle}: answers ${answers}, dials ${dials}, warnings ${warnings}`)
    expect(answers).toBeLessThanOrEqual(160)
  })
}

it('a connected seed whose every re-check fails warns once, not once per re-check', async () => {
  const connected = new Set<string>([SEED_ID])
  let answers = 0
  let warnings = 0
  const resolve: SeedResolver = () => {
    answers += 1
    if (answers === 1) return Promise.resolve([`/ip4/192.0.2.1/tcp/1/ws/p2p/${SEED_ID}`])
    return Promise.reject(new Error('health: 503'))
  }
  const p2p = {
    peerId: SELF_ID,
    peers: () => [...connected].map((peerId) => ({ peerId })),
    dial: (addr: string) => Promise.resolve(addr.slice(addr.lastIndexOf('/p2p/') + 5)),
  } as unknown as MeshP2P
  const dialer = new PeerDialer(
    () => p2p,
    () => void (warnings += 1),
    { seeds: [SEED], resolve },
  )
  dialer.start()
  await vi.advanceTimersByTimeAsync(HOUR)
  dialer.stop()
  console.log(`always failing: answers ${answers}, warnings ${warnings}`)
  expect(warnings).toBeLessThanOrEqual(1)
  expect(answers).toBeLessThanOrEqual(160)
})
