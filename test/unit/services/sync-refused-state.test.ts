// What sync remembers of the items it refused (node/services/refused-ids.ts, docs/protocol.md §9, decision
// 0052): a verdict that rests on the node's own state of a DID (a rotation that skips one not taken yet) is
// remembered only for the peer that served it, and forgotten once the DID's log moves on, so an honest pass
// that fetches a DID's rotation n+1 before n (short-id order, across passes) still ends on the DID's last key.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createRotation, envelopeId, generateKeyPair, type Envelope } from '../../../node/core/index.js'
import { SHORT_ID_HEX } from '../../../node/core/registry-reconcile.js'
import { RefusedIds, restsOnState } from '../../../node/services/refused-ids.js'
import { DEFAULT_SYNC_BUDGET } from '../../../node/services/sync-client.js'
import { FakeNetwork } from '../../helpers/fake-p2p.js'
import { FixedClock, kitAgent } from '../../helpers/service-kit.js'
import { syncNode, type SyncNode } from '../../helpers/sync-node.js'

const short = (e: Envelope): string => envelopeId(e).slice(0, SHORT_ID_HEX)

describe('RefusedIds', () => {
  const rot = { type: 'rot', did: 'did:msig:alice' } as const

  it('remembers a verdict resting on the node’s state for the serving peer only, until the DID moves on', () => {
    const refused = new RefusedIds()
    refused.remember('aa'.repeat(32), 'KEL_INVALID', 'rogue', rot)
    expect(refused.has('rogue', 'aa'.repeat(8))).toBe(true) // not fetched from the rogue again while alice stands
    expect(refused.has('honest', 'aa'.repeat(8))).toBe(false) // an honest peer's copy is still fetched
    refused.advanced('did:msig:bob')
    expect(refused.has('rogue', 'aa'.repeat(8))).toBe(true)
    refused.advanced('did:msig:alice')
    expect(refused.has('rogue', 'aa'.repeat(8))).toBe(false)
    expect(refused.size).toBe(0)
  })

  it('keeps final verdicts for every peer and forgeries for their peer, whatever the DID does', () => {
    const refused = new RefusedIds()
    refused.remember('bb'.repeat(32), 'PRE_ROTATION_MISMATCH', 'rogue', rot)
    refused.remember('cc'.repeat(32), 'REVOKED', 'peer', rot)
    // a copy signed with a retired key can be DUPLICATE or DUPLICITY where the genuine one is taken (review 79)
    refused.remember('ee'.repeat(32), 'DUPLICITY', 'rogue', rot)
    refused.advanced('did:msig:alice')
    expect(refused.has('rogue', 'bb'.repeat(8))).toBe(true)
    expect(refused.has('honest', 'bb'.repeat(8))).toBe(false)
    expect(refused.has('anyone', 'cc'.repeat(8))).toBe(true)
    expect(refused.has('rogue', 'ee'.repeat(8))).toBe(true)
    expect(refused.has('honest', 'ee'.repeat(8))).toBe(false)
  })

  it('tells the verdicts that rest on the node’s state from those of the item', () => {
    expect(restsOnState('KEL_INVALID', { type: 'rot', did: 'd' })).toBe(true)
    expect(restsOnState('SIGNATURE_INVALID', { type: 'reg', did: 'd' })).toBe(true) // a key not taken yet
    expect(restsOnState('SIGNATURE_INVALID', { type: 'icp', did: 'd' })).toBe(false) // the key it names
    expect(restsOnState('SIGNATURE_INVALID', { type: 'rot', did: 'd' })).toBe(false) // the key its prev names
    for (const code of ['MALFORMED', 'KEY_MISMATCH', 'PRE_ROTATION_MISMATCH', 'KEY_LOG_FULL', 'REVOKED', 'DUPLICITY'])
      expect(restsOnState(code, { type: 'rot', did: 'd' })).toBe(false)
  })

  it('remembers a revocation no known key can check for its peer until its DID moves on or registers (0069)', () => {
    const refused = new RefusedIds()
    refused.remember('aa'.repeat(32), 'UNKNOWN_SIGNER', 'honest', { type: 'rev', did: 'did:msig:alice' })
    refused.remember('bb'.repeat(32), 'UNKNOWN_SIGNER', 'honest', { type: 'rot', did: 'did:msig:alice' })
    expect(refused.has('honest', 'aa'.repeat(8))).toBe(true) // not fetched and checked again every round
    expect(refused.has('other', 'aa'.repeat(8))).toBe(false)
    expect(refused.has('honest', 'bb'.repeat(8))).toBe(false) // a rotation waits for no registration
    refused.advanced('did:msig:alice') // SyncClient calls it for a registration of alice too
    expect(refused.has('honest', 'aa'.repeat(8))).toBe(false)
    expect(restsOnState('UNKNOWN_SIGNER', { type: 'rev', did: 'd' })).toBe(true)
    expect(restsOnState('UNKNOWN_SIGNER', { type: 'msg' })).toBe(false)
  })

  it('does not remember a verdict resting on the state of no DID it can tell', () => {
    const refused = new RefusedIds()
    refused.remember('dd'.repeat(32), 'KEL_INVALID', 'peer')
    expect(refused.size).toBe(0)
  })
})

describe('an honest pass that fetches a DID’s later rotation before the one it follows', () => {
  let net: FakeNetwork
  let clock: FixedClock
  let a: SyncNode
  let b: SyncNode

  beforeEach(() => {
    net = new FakeNetwork()
    clock = new FixedClock()
    a = syncNode(net, clock, 'honest a')
    // one item a pass: the descent fetches one id per pass, in the order of the trie's prefixes
    b = syncNode(net, clock, 'victim b', { budget: { ...DEFAULT_SYNC_BUDGET, items: 1 } })
    net.connect(a.p2p, b.p2p)
  })
  afterEach(() => {
    a.kit.close()
    b.kit.close()
  })

  /** Rotations rot1, rot2 of `did` on `n`, with rot2's id under a lower first hex digit than rot1's. */
  function rotationsOutOfOrder(n: SyncNode, did: string, key0: ReturnType<typeof generateKeyPair>, key1: typeof key0) {
    const key2 = generateKeyPair(n.kit.random)
    const key3 = generateKeyPair(n.kit.random)
    let rot1 = createRotation(n.kit.store.keyEvents.state(did)!, key0, key1, clock.ms, key2)
    for (let t = 1; envelopeId(rot1)[0]! < '8'; t++)
      rot1 = createRotation(n.kit.store.keyEvents.state(did)!, key0, key1, clock.ms + t, key2)
    expect(n.kit.ingest.ingest(rot1, { kind: 'local' }, { fresh: false }).ok).toBe(true)
    let rot2 = createRotation(n.kit.store.keyEvents.state(did)!, key1, key2, clock.ms, key3)
    for (let t = 1; envelopeId(rot2)[0]! >= envelopeId(rot1)[0]!; t++)
      rot2 = createRotation(n.kit.store.keyEvents.state(did)!, key1, key2, clock.ms + t, key3)
    expect(n.kit.ingest.ingest(rot2, { kind: 'local' }, { fresh: false }).ok).toBe(true)
    return { rot1, rot2 }
  }

  it('takes the later rotation again once the earlier one is taken, and ends on the DID’s current key', async () => {
    // both hold a dozen agents (a descent, not pages) and alice at seq 0; a then takes alice's two rotations
    const agents = Array.from({ length: 13 }, (_, i) =>
      kitAgent(a.kit.random, clock.ms, { controller: a.kit.did, peerId: a.kit.peerId, name: `agent-${i}` }),
    )
    for (const ag of agents)
      for (const n of [a, b])
        for (const e of [ag.icp, ag.reg])
          expect(n.kit.ingest.ingest(e, { kind: 'local' }, { fresh: false }).ok).toBe(true)
    const alice = agents[0]!
    const { rot1, rot2 } = rotationsOutOfOrder(a, alice.did, alice.key, alice.next)

    await b.sync.client.round(a.kit.peerId)

    const fetched = b.p2p.syncsSent.flatMap((s) => (s.request.kind === 'items' ? s.request.ids : []))
    expect(fetched.indexOf(short(rot2))).toBeGreaterThanOrEqual(0)
    expect(fetched.indexOf(short(rot2))).toBeLessThan(fetched.indexOf(short(rot1))) // the later one came first
    expect(b.kit.store.keyEvents.state(alice.did)?.seq).toBe(2)
    expect(b.kit.store.keyEvents.state(alice.did)?.key).toBe(a.kit.store.keyEvents.state(alice.did)?.key)
  })
})
