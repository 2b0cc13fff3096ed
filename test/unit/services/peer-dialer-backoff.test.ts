/**
 * Review 105 L1: a seed peer given at start (`--peer ws://server1:4888`) that
 * does not answer was fetched (`/health`) and warned about every 3 s for as
 * long as the node ran, ~28,800 requests and log lines a day per peer, while
 * a multiaddr peer backs off and is warned about once per outage. Now seed
 * peers back off the same way (node/services/peer-dialer.ts, decision 0078).
 * Fake timers; the tests count resolutions and warnings over a simulated
 * hour, they assert no time.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { MeshsigError } from '../../../node/core/errors.js'
import type { MeshP2P } from '../../../node/p2p/index.js'
import { BOOTSTRAP_MAX_BACKOFF_MS } from '../../../node/p2p/constants.js'
import { PeerDialer } from '../../../node/services/peer-dialer.js'

const SEED = 'ws://server1:4888'
const PEER_ID = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
const HOUR = 60 * 60 * 1000
/** Most tries an hour at the backoff ceiling (its jitter goes down to 80 %), plus the climb to it. */
const MOST_TRIES_AN_HOUR = Math.ceil(HOUR / (0.8 * BOOTSTRAP_MAX_BACKOFF_MS)) + 10

/** A seed that is up or down, and a mesh that is connected to it or not. */
function world() {
  const w = { up: false, connected: false, resolutions: 0, warnings: [] as unknown[] }
  const p2p = {
    peers: () => (w.connected ? [{ peerId: PEER_ID }] : []),
    dial: () => {
      w.connected = true
      return Promise.resolve(PEER_ID)
    },
  } as unknown as MeshP2P
  const resolve = (): Promise<string[]> => {
    w.resolutions += 1
    if (!w.up) return Promise.reject(new MeshsigError('PEER_ERROR', 'seed server1:4888 answered HTTP 503'))
    return Promise.resolve([`/ip4/127.0.0.1/tcp/4889/p2p/${PEER_ID}`])
  }
  const dialer = new PeerDialer(
    () => p2p,
    (err) => w.warnings.push(err),
    { seeds: [SEED], resolve },
  )
  return { w, dialer }
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('PeerDialer: a seed peer that does not answer', () => {
  it('is tried with backoff and warned about once for a whole outage', async () => {
    const { w, dialer } = world()
    dialer.start()
    await vi.advanceTimersByTimeAsync(HOUR)
    dialer.stop()
    expect(w.warnings).toHaveLength(1) // was 1,200: one every 3 s
    expect(w.resolutions).toBeGreaterThan(1) // it is still retried
    expect(w.resolutions).toBeLessThanOrEqual(MOST_TRIES_AN_HOUR) // was 1,200
  })

  it('is warned about once more for a new outage after it was reached', async () => {
    const { w, dialer } = world()
    dialer.start()
    await vi.advanceTimersByTimeAsync(HOUR)
    w.up = true
    await vi.advanceTimersByTimeAsync(HOUR)
    expect(w.connected).toBe(true)
    const whileDown = w.resolutions
    w.up = false
    w.connected = false // the seed went away again
    await vi.advanceTimersByTimeAsync(HOUR)
    dialer.stop()
    expect(w.warnings).toHaveLength(2)
    expect(w.resolutions - whileDown).toBeLessThanOrEqual(MOST_TRIES_AN_HOUR)
  })

  it('costs one request a stable period while it is connected, and no warning', async () => {
    const { w, dialer } = world()
    w.up = true
    dialer.start()
    await vi.advanceTimersByTimeAsync(HOUR)
    dialer.stop()
    expect(w.connected).toBe(true)
    expect(w.resolutions).toBeLessThanOrEqual(HOUR / BOOTSTRAP_MAX_BACKOFF_MS + 1)
    expect(w.warnings).toHaveLength(0)
  })

  it('stops trying once stopped', async () => {
    const { w, dialer } = world()
    dialer.start()
    await vi.advanceTimersByTimeAsync(BOOTSTRAP_MAX_BACKOFF_MS)
    dialer.stop()
    const before = w.resolutions
    await vi.advanceTimersByTimeAsync(HOUR)
    expect(w.resolutions).toBe(before)
  })
})
