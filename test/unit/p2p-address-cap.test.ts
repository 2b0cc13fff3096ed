/**
 * The peer store keeps at most ADDRESSES_PER_PEER distinct addresses per peer: the connection gater's
 * filterMultiaddrForPeer admits a peer's first ones and refuses later ones until a slot is an hour stale
 * (node/p2p/address-cap.ts; review 117, F2).
 */
import { describe, expect, it } from 'vitest'
import { ADDRESS_SLOT_MS, PeerAddressCap } from '../../node/p2p/address-cap.js'

const addr = (i: number): string => `/ip4/10.0.${i >> 8}.${i & 255}/tcp/4001`

describe('PeerAddressCap', () => {
  it("admits a peer's first perPeer addresses, again and again, and refuses the others", () => {
    const cap = new PeerAddressCap('self', 4)
    const admitted = Array.from({ length: 100 }, (_, i) => cap.allow('p', addr(i))).filter(Boolean).length
    expect(admitted).toBe(4)
    expect([0, 1, 2, 3].every((i) => cap.allow('p', addr(i)))).toBe(true)
    expect(cap.allow('p', `${addr(1)}/p2p/p`)).toBe(true) // the same address with the peer's PeerId
    expect(cap.allow('q', addr(50))).toBe(true) // another peer has its own slots
  })

  it("never caps the node's own addresses, and refuses over-long ones", () => {
    const cap = new PeerAddressCap('self', 2)
    expect(Array.from({ length: 10 }, (_, i) => cap.allow('self', addr(i))).every(Boolean)).toBe(true)
    expect(cap.allow('p', `/dns4/${'a'.repeat(600)}/tcp/1`)).toBe(false)
  })

  it('lets a new address take a slot not seen for an hour', () => {
    let now = 0
    const cap = new PeerAddressCap('self', 2, 10, () => now)
    cap.allow('p', addr(0))
    now = ADDRESS_SLOT_MS / 2
    cap.allow('p', addr(1))
    expect(cap.allow('p', addr(2))).toBe(false)
    now = ADDRESS_SLOT_MS + 1
    expect(cap.allow('p', addr(2))).toBe(true) // took addr(0)'s slot
    expect(cap.allow('p', addr(0))).toBe(false)
  })

  it('tracks at most maxPeers peers, the least recently written dropped', () => {
    const cap = new PeerAddressCap('self', 1, 2)
    cap.allow('a', addr(0))
    cap.allow('b', addr(0))
    cap.allow('c', addr(0))
    expect(cap.allow('b', addr(1))).toBe(false)
    expect(cap.allow('a', addr(1))).toBe(true) // a's slots were dropped
  })
})
