/**
 * Presence announcements, the pull of direct delivery (docs/protocol.md §10):
 * what a node takes (and so relays), what it ignores, what it rejects as a
 * forgery, and how often it announces itself. The clock is the test's.
 */
import { describe, expect, it, vi } from 'vitest'
import {
  encodePresence,
  generateKeyPair,
  peerIdFromPublicKey,
  signPresence,
  utf8,
  verifyPresence,
  type KeyPair,
} from '../../../node/core/index.js'
import { DeliveryPresence } from '../../../node/services/delivery-presence.js'

const INTERVAL = 1_000
const SKEW = 300_000
const SETTLE = 5_000
const REPEAT = 30_000

function setup(opts: { trackedPeers?: number } = {}) {
  let now = 1_764_000_000_000
  const woken: string[] = []
  const published: Uint8Array[] = []
  const self = generateKeyPair()
  let key = self
  let hosts = true
  const presence = new DeliveryPresence({
    clock: () => now,
    nodeKey: () => key,
    peerId: () => peerIdFromPublicKey(self.publicKey),
    hostsAgents: () => hosts,
    maxSkewMs: SKEW,
    intervalMs: INTERVAL,
    settleMs: SETTLE,
    repeatMs: REPEAT,
    trackedPeers: opts.trackedPeers ?? 100,
    publish: async (data) => void published.push(data),
    wake: (peerId) => woken.push(peerId),
    onError: (err) => {
      throw err
    },
  })
  const advance = (ms: number): void => {
    now += ms
  }
  const rotate = (): void => {
    key = generateKeyPair()
  }
  const hostNothing = (): void => {
    hosts = false
  }
  return { presence, woken, published, self, advance, rotate, hostNothing, now: () => now }
}

function announcement(key: KeyPair, ts: number): { data: Uint8Array; from: string } {
  return { data: encodePresence(signPresence(key, ts)), from: peerIdFromPublicKey(key.publicKey) }
}

describe('presence announcements', () => {
  it('a signed announcement wakes its own peer’s messages and is relayed', () => {
    const t = setup()
    const peer = generateKeyPair()
    const { data, from } = announcement(peer, t.now())
    expect(t.presence.validate(data, from)).toBe('accept')
    expect(t.woken).toEqual([from])
  })

  it('a forgery is rejected and wakes nothing: another peer’s name, another key, garbage', () => {
    const t = setup()
    const c = generateKeyPair()
    const rogue = generateKeyPair()
    const rogueId = peerIdFromPublicKey(rogue.publicKey)
    const cId = peerIdFromPublicKey(c.publicKey)
    const named = encodePresence({ ...signPresence(rogue, t.now()), peerId: cId })
    expect(t.presence.validate(named, rogueId)).toBe('reject') // C's name, published by the rogue
    t.advance(INTERVAL)
    expect(t.presence.validate(named, cId)).toBe('reject') // C's name and gossip key, the rogue's signature
    t.advance(INTERVAL)
    expect(t.presence.validate(utf8('{"v":1,"type":"prs"}'), rogueId)).toBe('reject')
    expect(() => verifyPresence(named, cId)).toThrow(expect.objectContaining({ code: 'SIGNATURE_INVALID' }))
    expect(t.woken).toEqual([])
  })

  it('one announcement per peer per interval; replayed, older or stale ones are ignored', () => {
    const t = setup()
    const peer = generateKeyPair()
    const first = announcement(peer, t.now())
    expect(t.presence.validate(first.data, first.from)).toBe('accept')
    const again = announcement(peer, t.now() + 1)
    expect(t.presence.validate(again.data, again.from)).toBe('ignore') // inside the interval
    t.advance(INTERVAL)
    expect(t.presence.validate(first.data, first.from)).toBe('ignore') // the same statement again
    t.advance(INTERVAL)
    const stale = announcement(peer, t.now() - SKEW - 1)
    expect(t.presence.validate(stale.data, stale.from)).toBe('ignore')
    t.advance(INTERVAL)
    const fresh = announcement(peer, t.now())
    expect(t.presence.validate(fresh.data, fresh.from)).toBe('accept')
    expect(t.woken).toEqual([first.from, fresh.from])
  })

  it('a genuine old announcement passed on again spends nothing: the next fresh one is taken', () => {
    const t = setup()
    const peer = generateKeyPair()
    const first = announcement(peer, t.now())
    expect(t.presence.validate(first.data, first.from)).toBe('accept')
    t.advance(INTERVAL)
    expect(t.presence.validate(first.data, first.from)).toBe('ignore') // replayed by some relay
    const fresh = announcement(peer, t.now())
    expect(t.presence.validate(fresh.data, fresh.from)).toBe('accept')
    expect(t.woken).toEqual([first.from, fresh.from])
  })

  it('a bounded number of peers is tracked; past it, new peers wait until old ones age out', () => {
    const t = setup({ trackedPeers: 2 })
    const keys = [generateKeyPair(), generateKeyPair(), generateKeyPair()]
    const [a, b, c] = keys.map((k) => announcement(k, t.now()))
    expect(t.presence.validate(a!.data, a!.from)).toBe('accept')
    expect(t.presence.validate(b!.data, b!.from)).toBe('accept')
    expect(t.presence.validate(c!.data, c!.from)).toBe('ignore')
    t.advance(INTERVAL)
    const c2 = announcement(keys[2]!, t.now())
    expect(t.presence.validate(c2.data, c2.from)).toBe('accept')
  })

  it('a node announces itself at once, then at most once per interval (coalesced), signed by its key', () => {
    vi.useFakeTimers()
    const t = setup()
    t.presence.announce()
    t.presence.announce()
    t.presence.announce()
    expect(t.published).toHaveLength(1)
    const selfId = peerIdFromPublicKey(t.self.publicKey)
    expect(verifyPresence(t.published[0]!, selfId)).toMatchObject({ type: 'prs', peerId: selfId, ts: t.now() })
    vi.advanceTimersByTime(INTERVAL - 1)
    expect(t.published).toHaveLength(1)
    t.advance(INTERVAL)
    vi.advanceTimersByTime(1)
    expect(t.published).toHaveLength(2)
    vi.useRealTimers()
    t.presence.stop()
    t.presence.announce()
    expect(t.published).toHaveLength(2)
    expect(t.presence.validate(t.published[0]!, selfId)).toBe('ignore') // stopped: takes nothing
  })

  it('announces on joining, to the next peers while it settles, then for new connections at most once per repeat', () => {
    vi.useFakeTimers()
    const t = setup()
    t.presence.start(0)
    expect(t.published).toHaveLength(0) // alone: nobody to tell
    t.presence.connected()
    t.presence.connected() // a second peer at once: coalesced into one after the interval
    expect(t.published).toHaveLength(1)
    t.advance(INTERVAL)
    vi.advanceTimersByTime(INTERVAL)
    expect(t.published).toHaveLength(2) // the peers that came while it settled are told too
    t.advance(SETTLE)
    t.presence.connected()
    vi.advanceTimersByTime(INTERVAL)
    expect(t.published).toHaveLength(2) // settled: a new connection within the repeat tells nobody
    t.advance(REPEAT)
    t.presence.connected() // long after: perhaps a partition healed around this node
    expect(t.published).toHaveLength(3)
    t.presence.disconnected(1)
    t.advance(INTERVAL)
    t.presence.connected()
    expect(t.published).toHaveLength(3) // still some peer left: not a return
    t.presence.disconnected(0)
    t.presence.connected()
    expect(t.published).toHaveLength(4) // back from having none
    t.presence.stop()
    t.advance(INTERVAL)
    t.presence.start(3) // started again with peers already connected
    expect(t.published).toHaveLength(5)
    vi.useRealTimers()
  })

  it('after a rotation of the node key, until the restart, announces nothing (the mesh still runs under the old PeerId)', () => {
    const t = setup()
    t.rotate()
    t.presence.start(1)
    expect(t.published).toHaveLength(0)
  })

  it('a node that hosts no agent announces nothing: nobody holds messages for it', () => {
    const t = setup()
    t.hostNothing()
    t.presence.start(1)
    expect(t.published).toHaveLength(0)
  })
})
