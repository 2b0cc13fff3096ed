// Two signed checkpoints (`chk`) of one log at one size with different roots are a split view
// (docs/audit.md): evidence only the origin's key could make, so it lowers the origin's
// trust (SPEC §6) and charges nobody who relayed it. Found by the SPEC audit of stop 32: both
// were stored and nothing was recorded.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  applyKeyEvent,
  createCheckpoint,
  createInception,
  createRotation,
  generateKeyPair,
  signingBytes,
  toB64,
  type ChkEnvelope,
  type KeyPair,
} from '../../../node/core/index.js'
import { REMOTE_CHECKPOINTS_PER_ORIGIN } from '../../../node/limits.js'
import { TrustService } from '../../../node/services/trust.js'
import { auditEntries, kitAgent, kitNode, type KitAgent, type KitNode } from '../../helpers/service-kit.js'

const gossip = { kind: 'gossip', peer: 'relay-peer' } as const
let n: KitNode
let origin: KitAgent

beforeEach(() => {
  n = kitNode()
  origin = kitAgent(n.random, n.clock.ms, { controller: 'did:msig:other', peerId: 'peer-x' })
  for (const e of [origin.icp, origin.reg]) expect(n.ingest.ingest(e, gossip, { fresh: false }).ok).toBe(true)
})
afterEach(() => n.close())

const root = (byte: number): Uint8Array => new Uint8Array(32).fill(byte)
function chk(key: KeyPair, did: string, size: number, rootByte: number): ChkEnvelope {
  n.clock.advance(1_000)
  return createCheckpoint(did, size, root(rootByte), n.clock.ms, key)
}
const inconsistencies = () => auditEntries(n.store).filter((e) => e.kind === 'checkpoint.inconsistent')
const originTrust = () => new TrustService(n.store).agent(origin.did)

describe('a split view among signed checkpoints', () => {
  it('is recorded once against the origin, lowers its trust, and charges nobody who relayed it', () => {
    const first = n.ingest.ingest(chk(origin.key, origin.did, 10, 1), gossip, { fresh: true })
    const before = originTrust()
    const second = n.ingest.ingest(chk(origin.key, origin.did, 10, 2), gossip, { fresh: true })
    expect(first.ok && second.ok).toBe(true)
    const [entry, ...more] = inconsistencies()
    expect(more).toEqual([])
    expect(entry).toMatchObject({ subject: origin.did, envelopeId: second.id })
    expect(entry?.data).toEqual({ reason: 'split-view', earlierId: first.id, size: 10 })
    expect(originTrust().failures).toBe(before.failures + 1)
    expect(originTrust().score).toBeLessThan(before.score)
    expect(n.store.misc.peerFaults().find((f) => f.peer === 'relay-peer')?.forged ?? 0).toBe(0)
    expect(n.emitted.filter((e) => e.type === 'audit:inconsistent').map((e) => e.data)).toEqual([
      expect.objectContaining({ origin: origin.did, kind: 'split-view', earlierId: first.id, laterId: second.id }),
    ])
    // the same later checkpoint delivered again is a duplicate: nothing more is recorded
    const again = n.store.auditEntries.remoteCheckpoints(origin.did).map((t) => JSON.parse(t) as ChkEnvelope)
    for (const c of again) n.ingest.ingest(c, gossip, { fresh: true })
    expect(inconsistencies()).toHaveLength(1)
  })

  it('is recorded once per size, however often either root comes again (found by the attack review)', () => {
    for (const byte of [1, 2, 1, 1, 2])
      expect(n.ingest.ingest(chk(origin.key, origin.did, 10, byte), gossip, { fresh: true }).ok).toBe(true)
    expect(inconsistencies()).toHaveLength(1)
    // a third root at that size proves nothing more: the size's split view counts once, as duplicity once per seq
    // (decision 0088; a replay ordering the roots anew must not count again)
    expect(n.ingest.ingest(chk(origin.key, origin.did, 10, 3), gossip, { fresh: true }).ok).toBe(true)
    expect(inconsistencies()).toHaveLength(1)
    expect(n.ingest.ingest(chk(origin.key, origin.did, 11, 3), gossip, { fresh: true }).ok).toBe(true)
    expect(n.ingest.ingest(chk(origin.key, origin.did, 11, 4), gossip, { fresh: true }).ok).toBe(true)
    expect(inconsistencies()).toHaveLength(2) // another size, another split view
  })

  it(`keeps at most ${REMOTE_CHECKPOINTS_PER_ORIGIN} checkpoints of one origin, the newest`, () => {
    n.store.transaction(() => {
      for (let size = 1; size <= REMOTE_CHECKPOINTS_PER_ORIGIN + 10; size++) {
        expect(n.ingest.ingest(chk(origin.key, origin.did, size, 1), gossip, { fresh: true }).ok).toBe(true)
      }
    })
    const kept = n.store.auditEntries.remoteCheckpoints(origin.did).map((t) => (JSON.parse(t) as ChkEnvelope).size)
    expect(kept).toHaveLength(REMOTE_CHECKPOINTS_PER_ORIGIN)
    expect(Math.min(...kept)).toBe(11)
    // checkpoints with huge sizes cannot push a later, smaller honest one out (second attack review)
    for (let i = 0; i < REMOTE_CHECKPOINTS_PER_ORIGIN; i++)
      n.ingest.ingest(chk(origin.key, origin.did, 2 ** 52 + i, 1), gossip, { fresh: true })
    const honest = n.ingest.ingest(chk(origin.key, origin.did, 300, 1), gossip, { fresh: true })
    expect(n.store.auditEntries.hasRemoteCheckpoint(honest.id!)).toBe(true)
  })

  it('is not seen in checkpoints that agree, or that differ only in size', () => {
    for (const c of [chk(origin.key, origin.did, 10, 1), chk(origin.key, origin.did, 10, 1)]) {
      expect(n.ingest.ingest(c, gossip, { fresh: true }).ok).toBe(true) // same size and root, a later time
    }
    expect(n.ingest.ingest(chk(origin.key, origin.did, 11, 2), gossip, { fresh: true }).ok).toBe(true)
    expect(inconsistencies()).toEqual([])
    expect(n.emitted.some((e) => e.type === 'audit:inconsistent')).toBe(false)
  })

  it('is not seen in the same root spelt otherwise: refused as MALFORMED (review 103, docs/protocol.md §1)', () => {
    const first = chk(origin.key, origin.did, 10, 7) // root "BwcH…Bwc=": 2 unused bits in its last character
    const unsigned = { ...first, ts: first.ts + 1, root: first.root.slice(0, 42) + 'd=' } // 'c' | 1: the same bytes
    expect(Buffer.from(unsigned.root, 'base64')).toEqual(Buffer.from(first.root, 'base64'))
    const { sig: _sig, ...body } = unsigned
    const respelt = { ...body, sig: toB64(origin.key.sign(signingBytes(body))) }
    expect(n.ingest.ingest(first, gossip, { fresh: true }).ok).toBe(true)
    const second = n.ingest.ingest(respelt, gossip, { fresh: true })
    // before the fix: taken, and recorded as a split view against the origin
    expect(second.ok ? 'accepted' : second.error.code).toBe('MALFORMED')
    expect(inconsistencies()).toEqual([])
  })

  it("is seen against this node's own checkpoint when someone else signs with its key", () => {
    expect(n.ingest.ingest(createInception(n.key, n.clock.ms), { kind: 'local' }, { fresh: false }).ok).toBe(true)
    const mine = chk(n.key, n.did, 5, 7)
    n.store.auditEntries.putCheckpoint(5, JSON.stringify(mine))
    const thief = n.ingest.ingest(chk(n.key, n.did, 5, 8), gossip, { fresh: true })
    expect(thief.ok).toBe(true)
    expect(inconsistencies()).toEqual([expect.objectContaining({ subject: n.did, envelopeId: thief.id })])
  })
})

// Review 103 (decision 0073): the owner rotates because its key leaked; what the thief signed with that key
// before the rotation must not frame it once its new key signs the real checkpoint (SPEC §6).
describe('a split view with a checkpoint under a key the origin rotated away from', () => {
  function rotate(): void {
    n.clock.advance(60_000)
    const state = n.store.keyEvents.state(origin.did)!
    const rot = createRotation(state, origin.key, origin.next, n.clock.ms, generateKeyPair(n.random))
    expect(n.ingest.ingest(rot, gossip, { fresh: false }).ok).toBe(true)
  }

  it('is not recorded and lowers nobody; one made under the new key still is', () => {
    const forged = n.ingest.ingest(chk(origin.key, origin.did, 1000, 1), gossip, { fresh: true }) // the leaked key
    expect(forged.ok).toBe(true)
    const before = originTrust()
    rotate()
    expect(n.store.auditEntries.hasRemoteCheckpoint(forged.id!)).toBe(false) // dropped with the rotation
    const honest = n.ingest.ingest(chk(origin.next, origin.did, 1000, 2), gossip, { fresh: true })
    expect(honest.ok).toBe(true)
    // before the fix: 1 entry, the failure counted, trust 0.5 → 0.25
    expect(inconsistencies()).toEqual([])
    expect(originTrust()).toEqual(before)
    expect(n.emitted.some((e) => e.type === 'audit:inconsistent')).toBe(false)
    // the new key signing another root at that size is the origin's own split view
    const other = n.ingest.ingest(chk(origin.next, origin.did, 1000, 3), gossip, { fresh: true })
    expect(inconsistencies()).toEqual([expect.objectContaining({ subject: origin.did, envelopeId: other.id })])
    expect(inconsistencies()[0]?.data).toEqual({ reason: 'split-view', earlierId: honest.id, size: 1000 })
  })

  it('is not recorded against this node from its own checkpoint under the key it rotated away from', () => {
    const next = generateKeyPair(n.random)
    const icp = createInception(n.key, n.clock.ms, next)
    expect(n.ingest.ingest(icp, { kind: 'local' }, { fresh: false }).ok).toBe(true)
    n.store.auditEntries.putCheckpoint(5, JSON.stringify(chk(n.key, n.did, 5, 7)))
    const rot = createRotation(n.store.keyEvents.state(n.did)!, n.key, next, n.clock.ms, generateKeyPair(n.random))
    expect(n.ingest.ingest(rot, { kind: 'local' }, { fresh: false }).ok).toBe(true)
    expect(n.ingest.ingest(chk(next, n.did, 5, 8), gossip, { fresh: true }).ok).toBe(true)
    expect(inconsistencies()).toEqual([])
  })

  it('is not recorded from a kept checkpoint the current key did not sign (kept before this rule)', () => {
    const forged = chk(origin.key, origin.did, 1000, 1)
    rotate()
    // as a database written before decision 0073 still keeps it
    n.store.auditEntries.addRemoteCheckpoint('0'.repeat(64), forged, JSON.stringify(forged), n.clock.ms)
    expect(n.ingest.ingest(chk(origin.next, origin.did, 1000, 2), gossip, { fresh: true }).ok).toBe(true)
    expect(inconsistencies()).toEqual([])
  })
})

// Review 124 (decision 0088): a relay that replays an origin's old checkpoints past the 256 kept had the same
// split view recorded again each loop: failures [1, 2, 3, 4] over four loops, score 0.1 where 0.25 is right.
describe('a split view replayed', () => {
  it('counts once against the origin, however often a relay replays it past the kept checkpoints', () => {
    // everything the origin ever signed: one split view at size 10, and 256 honest checkpoints after it
    const pool = [chk(origin.key, origin.did, 10, 1), chk(origin.key, origin.did, 10, 2)]
    for (let i = 0; i < REMOTE_CHECKPOINTS_PER_ORIGIN; i++) pool.push(chk(origin.key, origin.did, 11 + i, 1))
    const failures: number[] = []
    for (let round = 0; round < 4; round++) {
      for (const c of pool) {
        n.clock.advance(1_000)
        n.ingest.ingest(c, gossip, { fresh: true })
      }
      failures.push(originTrust().failures)
    }
    expect(failures).toEqual([1, 1, 1, 1])
    expect(inconsistencies()).toHaveLength(1)
  })

  it("counts again under the origin's new key, at a size split before", () => {
    const split = (key: KeyPair, bytes: readonly number[]) => {
      for (const b of bytes) expect(n.ingest.ingest(chk(key, origin.did, 10, b), gossip, { fresh: true }).ok).toBe(true)
    }
    split(origin.key, [1, 2])
    const rot = createRotation(applyKeyEvent(undefined, origin.icp), origin.key, origin.next, n.clock.ms)
    expect(n.ingest.ingest(rot, gossip, { fresh: false }).ok).toBe(true)
    split(origin.next, [3, 4]) // the key now in use equivocated too: evidence only it could make
    expect(originTrust().failures).toBe(2)
  })
})
