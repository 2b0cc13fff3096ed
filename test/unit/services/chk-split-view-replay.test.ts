// Review 124: a split view among `chk` envelopes is evidence the origin made once; a third party that
// re-delivers the same two checkpoints (after the bounded store of REMOTE_CHECKPOINTS_PER_ORIGIN pushed
// them out, by re-delivering the origin's other old checkpoints) must not be able to count it again.
// SPEC §6: a re-delivered old envelope never lowers a DID's score. Before: failures [1, 2, 3, 4] over four
// replays, score 0.1 where the one real failure leaves 0.25.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { applyKeyEvent, createCheckpoint, createRotation, type ChkEnvelope } from '../../../node/core/index.js'
import { REMOTE_CHECKPOINTS_PER_ORIGIN } from '../../../node/limits.js'
import { TrustService } from '../../../node/services/trust.js'
import { auditEntries, kitAgent, kitNode, type KitAgent, type KitNode } from '../../helpers/service-kit.js'

const gossip = { kind: 'gossip', peer: 'rogue-relay' } as const
let n: KitNode
let origin: KitAgent

beforeEach(() => {
  n = kitNode()
  origin = kitAgent(n.random, n.clock.ms, { controller: 'did:msig:other', peerId: 'peer-x' })
  for (const e of [origin.icp, origin.reg]) expect(n.ingest.ingest(e, gossip, { fresh: false }).ok).toBe(true)
})
afterEach(() => n.close())

const chk = (size: number, rootByte: number): ChkEnvelope =>
  createCheckpoint(origin.did, size, new Uint8Array(32).fill(rootByte), n.clock.ms, origin.key)

describe('a split view among checkpoints', () => {
  it('counts once against the origin, however often a relay replays it past the kept checkpoints', () => {
    // everything the origin ever signed: one split view at size 10, and 256 honest checkpoints after it
    const pool = [chk(10, 1), chk(10, 2)]
    for (let i = 0; i < REMOTE_CHECKPOINTS_PER_ORIGIN; i++) pool.push(chk(11 + i, 1))
    const trust = new TrustService(n.store)
    const failures: number[] = []
    for (let round = 0; round < 4; round++) {
      // the rogue relay re-delivers the origin's own old checkpoints, in a cycle
      for (const c of pool) {
        n.clock.advance(1_000)
        n.ingest.ingest(c, gossip, { fresh: true })
      }
      failures.push(trust.agent(origin.did).failures)
    }
    const recorded = auditEntries(n.store).filter((e) => e.kind === 'checkpoint.inconsistent').length
    expect(failures).toEqual([1, 1, 1, 1])
    expect(recorded).toBe(1)
  })

  it('at another size is more evidence, and counts again', () => {
    const trust = new TrustService(n.store)
    for (const c of [chk(10, 1), chk(10, 2), chk(10, 3), chk(20, 1), chk(20, 2)]) {
      n.clock.advance(1_000)
      expect(n.ingest.ingest(c, gossip, { fresh: true }).ok).toBe(true)
    }
    // a third root at size 10 is the same size's split view; size 20 is a second one
    expect(trust.agent(origin.did).failures).toBe(2)
  })

  it("under the origin's new key, at a size split before, counts again", () => {
    const trust = new TrustService(n.store)
    const split = (key: KitAgent['key']) => {
      for (const root of [1, 2]) {
        n.clock.advance(1_000)
        const c = createCheckpoint(origin.did, 10, new Uint8Array(32).fill(root + key.publicKey[0]!), n.clock.ms, key)
        expect(n.ingest.ingest(c, gossip, { fresh: true }).ok).toBe(true)
      }
    }
    split(origin.key)
    const rot = createRotation(applyKeyEvent(undefined, origin.icp), origin.key, origin.next, n.clock.ms)
    expect(n.ingest.ingest(rot, gossip, { fresh: false }).ok).toBe(true)
    split(origin.next) // the key now in use equivocated too: evidence only it could make
    expect(trust.agent(origin.did).failures).toBe(2)
  })
})
