/**
 * One /health answer naming a peer this node is connected to anyway (libp2p's dial hands back the existing
 * connection, so the answer needs no reachable address) made the dialer take the seed as reached for as long
 * as that peer stayed connected: the seed was never asked again (review 110 M1; SECURITY.md: "no answer ...
 * stops the node asking that seed"). A connected seed is asked again once every stable period.
 */
import { afterEach, beforeEach, expect, it, vi } from 'vitest'
import type { MeshP2P } from '../../../node/p2p/index.js'
import { PeerDialer, type SeedResolver } from '../../../node/services/peer-dialer.js'

const SEED = 'ws://server1:4888'
const SEED_ID = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
const OTHER_ID = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'
const SELF_ID = '12D3KooWMGrF9vqz2UCUpPbSLQhkvqQS5CXE3GGWKgwK6nU7kQMC'
const HOUR = 60 * 60 * 1000

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

it('a seed whose one answer named an already-connected peer is still asked, and its real peer dialled', async () => {
  const connected = new Set<string>([OTHER_ID]) // a neighbour that stays connected (inbound, say)
  let answers = 0
  const dials: string[] = []
  const resolve: SeedResolver = () => {
    answers += 1
    // first answer: a man-in-the-middle / whoever holds the name while the seed is down names OTHER_ID
    const id = answers === 1 ? OTHER_ID : SEED_ID
    return Promise.resolve([`/ip4/192.0.2.1/tcp/1/ws/p2p/${id}`])
  }
  const p2p = {
    peerId: SELF_ID,
    peers: () => [...connected].map((peerId) => ({ peerId })),
    dial: (addr: string) => {
      dials.push(addr)
      const id = addr.slice(addr.lastIndexOf('/p2p/') + 5)
      if (connected.has(id)) return Promise.resolve(id) // libp2p: the existing connection, no new dial
      return Promise.reject(new Error('unreachable'))
    },
  } as unknown as MeshP2P
  const dialer = new PeerDialer(
    () => p2p,
    () => undefined,
    { seeds: [SEED], resolve },
  )
  dialer.start()
  await vi.advanceTimersByTimeAsync(HOUR)
  dialer.stop()
  // before: 1 answer and no dial of SEED_ID in an hour
  expect(dials.some((d) => d.endsWith(SEED_ID))).toBe(true)
  // asked again, within the documented bound: at most once per backoff ceiling (30 s) an hour, 120, plus slack
  expect(answers).toBeGreaterThan(1)
  expect(answers).toBeLessThanOrEqual(160)
})
