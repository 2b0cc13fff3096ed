/**
 * Review 107 (decision 0078): what a kept seed answers never drops it, and
 * never costs more than the backoff allows.
 * - L5: the backoff was reset by every dial that succeeded, so a seed that
 *   accepts the dial and closes the connection at once (a full seed, or one
 *   that refuses this node) was resolved and dialled every 3 s, 1,200 times an
 *   hour. Now the backoff restarts only once a connection has stayed up.
 * - M1: a `/health` naming this node's own PeerId (libp2p: "Can not dial
 *   self", `INVALID_INPUT`), or any `INVALID_INPUT` from dialling what a seed
 *   answered, dropped the seed for good.
 * - L1: every address a seed answered was dialled, none deduplicated or capped.
 * Fake timers; the tests count resolutions, dials and warnings, no time.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { MeshsigError } from '../../../node/core/errors.js'
import type { MeshP2P } from '../../../node/p2p/index.js'
import { BOOTSTRAP_MAX_BACKOFF_MS, MAX_SEED_ADDRS } from '../../../node/p2p/constants.js'
import { PeerDialer, type SeedResolver } from '../../../node/services/peer-dialer.js'

const SEED = 'ws://server1:4888'
const PEER_ID = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
const SELF_ID = '12D3KooWMGrF9vqz2UCUpPbSLQhkvqQS5CXE3GGWKgwK6nU7kQMC'
const HOUR = 60 * 60 * 1000
/** Most tries an hour at the backoff ceiling (its jitter goes down to 80 %), plus the climb to it. */
const MOST_TRIES_AN_HOUR = Math.ceil(HOUR / (0.8 * BOOTSTRAP_MAX_BACKOFF_MS)) + 10

/** A mesh whose dials are counted; `onDial` decides whether the connection is made and kept. */
function world(resolve: SeedResolver, onDial: (addr: string) => void = () => undefined) {
  const w = { resolutions: 0, dials: [] as string[], warnings: [] as unknown[], connected: false }
  const p2p = {
    peerId: SELF_ID,
    peers: () => (w.connected ? [{ peerId: PEER_ID }] : []),
    dial: (addr: string) => {
      w.dials.push(addr)
      try {
        onDial(addr)
      } catch (err) {
        return Promise.reject(err)
      }
      return Promise.resolve(PEER_ID)
    },
  } as unknown as MeshP2P
  const counted: SeedResolver = (seed, opts) => {
    w.resolutions += 1
    return resolve(seed, opts)
  }
  const dialer = new PeerDialer(
    () => p2p,
    (err) => w.warnings.push(err),
    { seeds: [SEED], resolve: counted },
  )
  return { w, dialer }
}

const at = (id: string, port = 4889): string => `/ip4/127.0.0.1/tcp/${port}/p2p/${id}`

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('PeerDialer: a seed that accepts the dial and drops it', () => {
  it('backs off like a seed that is down, with no warning', async () => {
    const { w, dialer } = world(() => Promise.resolve([at(PEER_ID)])) // never stays connected
    dialer.start()
    await vi.advanceTimersByTimeAsync(HOUR)
    dialer.stop()
    expect(w.warnings).toHaveLength(0)
    expect(w.resolutions).toBeGreaterThan(1) // still retried
    expect(w.resolutions).toBeLessThanOrEqual(MOST_TRIES_AN_HOUR) // was 1,201
    expect(w.dials.length).toBeLessThanOrEqual(MOST_TRIES_AN_HOUR)
  })

  it('is asked only once a stable period while a connection stays up (review 110: whatever answered is checked)', async () => {
    const { w, dialer } = world(
      () => Promise.resolve([at(PEER_ID)]),
      () => (w.connected = true),
    )
    dialer.start()
    await vi.advanceTimersByTimeAsync(HOUR)
    dialer.stop()
    expect(w.resolutions).toBeGreaterThan(1)
    expect(w.resolutions).toBeLessThanOrEqual(HOUR / BOOTSTRAP_MAX_BACKOFF_MS + 1)
  })
})

describe('PeerDialer: a seed whose /health names this node', () => {
  it('is kept and reached once it answers with another PeerId', async () => {
    let answer = [at(SELF_ID)]
    const { w, dialer } = world(
      () => Promise.resolve(answer),
      (addr) => {
        if (addr.endsWith(SELF_ID)) throw new MeshsigError('INVALID_INPUT', 'Can not dial self')
        w.connected = true
      },
    )
    dialer.start()
    await vi.advanceTimersByTimeAsync(HOUR)
    expect(w.dials).toEqual([]) // its own address is never dialled
    answer = [at(PEER_ID)]
    await vi.advanceTimersByTimeAsync(HOUR)
    dialer.stop()
    expect(w.connected).toBe(true) // was: dropped after the first answer, never asked again
    expect(w.warnings).toHaveLength(1) // one outage, one warning
    expect(String(w.warnings[0])).toContain("this node's own PeerId")
  })

  it('is kept when dialling what it answered fails with INVALID_INPUT', async () => {
    let bad = true
    const { w, dialer } = world(
      () => Promise.resolve([at(PEER_ID)]),
      () => {
        if (bad) throw new MeshsigError('INVALID_INPUT', 'the remote gave a bad address')
        w.connected = true
      },
    )
    dialer.start()
    await vi.advanceTimersByTimeAsync(HOUR)
    bad = false
    await vi.advanceTimersByTimeAsync(HOUR)
    dialer.stop()
    expect(w.connected).toBe(true)
    expect(w.warnings).toHaveLength(1)
  })

  it('refuses and does not keep a seed that is no address at all', async () => {
    const { w, dialer } = world(() => Promise.resolve([at(PEER_ID)]))
    dialer.keep('garbage')
    await vi.advanceTimersByTimeAsync(HOUR)
    dialer.stop()
    expect(w.resolutions).toBe(0)
    expect(w.warnings).toHaveLength(1)
  })
})

describe('PeerDialer: a seed that answers many addresses', () => {
  it('dials at most MAX_SEED_ADDRS of them per answer, each once', async () => {
    const many = Array.from({ length: 2000 }, (_, i) => at(PEER_ID, 1000 + (i % 1000)))
    const { w, dialer } = world(
      () => Promise.resolve(many),
      () => {
        throw new MeshsigError('UNREACHABLE', 'connection refused')
      },
    )
    await dialer.connect(SEED).catch(() => undefined)
    expect(w.resolutions).toBe(1)
    expect(w.dials).toHaveLength(MAX_SEED_ADDRS) // was 2,000
    expect(new Set(w.dials).size).toBe(MAX_SEED_ADDRS)
  })
})
