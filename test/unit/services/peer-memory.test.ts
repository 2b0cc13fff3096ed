// The sync client's bounded per-peer memory (node/services/peer-memory.ts, docs/protocol.md §9) and the
// held-inception pool's per-peer counts (sync-admission.ts): neither grows with the peer ids a rogue mints.
import { describe, expect, it } from 'vitest'
import {
  createInception,
  didFromPublicKey,
  envelopeId,
  generateKeyPair,
  MAX_KEY_EVENTS,
  peerIdFromPublicKey,
  type Envelope,
} from '../../../node/core/index.js'
import { PeerMemory } from '../../../node/services/peer-memory.js'
import { Admission } from '../../../node/services/sync-admission.js'
import { kitAgent, seededRandom } from '../../helpers/service-kit.js'

describe('PeerMemory', () => {
  it('keeps at most its bound, forgetting the peer written longest ago', () => {
    const m = new PeerMemory<number>(2)
    m.set('a', 1)
    m.set('b', 2)
    m.set('a', 3) // a write makes `a` the newest
    m.set('c', 4)
    expect([m.get('a'), m.get('b'), m.get('c'), m.size]).toEqual([3, undefined, 4, 2])
  })

  it('drops every stale entry before it forgets a live one', () => {
    const m = new PeerMemory<number>(3, (v) => v < 0)
    m.set('old', 1)
    m.set('x', -1)
    m.set('y', -2)
    m.set('new', 5)
    expect([m.has('old'), m.has('x'), m.has('y'), m.has('new'), m.size]).toEqual([true, false, false, true, 2])
  })

  it('holds 10,000 peers in its default bound of 4,096', () => {
    const m = new PeerMemory<number>()
    for (let i = 0; i < 10_000; i++) m.set(`peer-${i}`, i)
    expect(m.size).toBe(4096)
    expect(m.has('peer-9999')).toBe(true)
  })
})

describe('the held-inception pool', () => {
  it('forgets a peer once nothing is held for it, whether released or dropped', () => {
    const random = seededRandom('admission')
    const admission = new Admission({ index: { isAnchored: () => false, hasLog: () => false } })
    const owner = generateKeyPair(random)
    const agents = Array.from({ length: 20 }, () =>
      kitAgent(random, 0, {
        controller: didFromPublicKey(owner.publicKey),
        peerId: peerIdFromPublicKey(owner.publicKey),
      }),
    )
    agents.forEach((a, i) => expect(admission.admit(a.icp, `peer-${i}`, undefined)).toBe('held'))
    expect(admission.peers()).toBe(20)
    agents.slice(0, 10).forEach((a, i) =>
      expect(admission.admit(a.reg, 'any', undefined)).toEqual({
        now: [
          { envelope: a.icp, peer: `peer-${i}` },
          { envelope: a.reg, peer: 'any' },
        ],
      }),
    )
    expect(admission.peers()).toBe(10)
    for (let i = 10; i < 20; i++) expect(admission.dropPeer(`peer-${i}`)).toBe(1)
    expect([admission.peers(), admission.size()]).toEqual([0, 0])
  })

  it('counts no peer for a DID evicted as it holds a new one (the pool full of its own)', () => {
    const random = seededRandom('admission eviction')
    const admission = new Admission({
      index: { isAnchored: () => false, hasLog: () => false },
      limits: { maxHeld: 1, maxHeldPerPeer: 4 },
    })
    // a rogue under fresh ids, two DIDs each: the second evicts the first, the next id's evicts the second
    for (let i = 0; i < 50; i++) {
      for (let j = 0; j < 2; j++)
        expect(admission.admit(createInception(generateKeyPair(random), 0), `rogue-${i}`, undefined)).toBe('held')
    }
    expect([admission.size(), admission.peers()]).toEqual([1, 1])
  })

  it('holds no key event of a held DID that does not check against its held log (decision 0085)', () => {
    const random = seededRandom('admission events')
    const admission = new Admission({ index: { isAnchored: () => false, hasLog: () => false } })
    const key = generateKeyPair(random)
    const icp = createInception(key, 0, generateKeyPair(random))
    expect(admission.admit(icp, 'rogue', undefined)).toBe('held')
    // junk rotations: each refused at once as a forgery, to be charged to the peer that sent it
    const rot = { ...icp, type: 'rot', seq: 1, prev: envelopeId(icp), sig2: icp.sig } as unknown as Envelope
    const outcomes = Array.from({ length: 2 * MAX_KEY_EVENTS }, () => admission.admit(rot, 'rogue', undefined))
    expect(outcomes.every((o) => typeof o === 'object' && 'forged' in o)).toBe(true)
    expect([admission.size(), admission.events()]).toEqual([1, 0])
  })
})
