// Revocations by the controller after the controller itself moved on, and the bounds around revoked DIDs
// (decision 0044, docs/protocol.md §6). In-memory nodes on the fake mesh, as revocation-race-sync.test.ts.
import { describe, expect, it } from 'vitest'
import {
  createInception,
  createMessage,
  createRegistration,
  createRevocation,
  createRotation,
  generateKeyPair,
  signEnvelope,
  type KeyPair,
  type RevEnvelope,
} from '../../../node/core/index.js'
import type { SyncNode } from '../../helpers/sync-node.js'
import {
  clock,
  code,
  hostedAgent,
  knowOwnLog,
  LOCAL,
  net,
  syncNode,
  useRevocationMesh,
} from '../../helpers/revocation-mesh.js'
import { auditEntries, kitAgent } from '../../helpers/service-kit.js'

useRevocationMesh()

const gossip = { kind: 'gossip' as const, peer: 'relay' }

/** Rotate the node's own DID (its inception commits to no next key) and take it up locally. */
function rotateNode(n: SyncNode, ts: number): { rot: ReturnType<typeof createRotation>; newKey: KeyPair } {
  const newKey = generateKeyPair()
  const rot = createRotation(n.kit.store.keyEvents.state(n.kit.did)!, n.kit.key, newKey, ts, generateKeyPair())
  expect(n.kit.ingest.ingest(rot, LOCAL, { fresh: false }).ok).toBe(true)
  return { rot, newKey }
}

describe('the controller rotates (or is revoked) after revoking one of its agents', () => {
  it('a node that learns the controller’s rotation first still ends revoked, and the relay is not charged', () => {
    const a = syncNode('controller a')
    const c = syncNode('node c')
    knowOwnLog(a, [c])
    const ag = hostedAgent(a, [a, c])
    const rev = createRevocation(a.kit.store.keyEvents.state(ag.did)!, a.kit.key, 'retired', clock.ms + 1)
    expect(a.kit.ingest.ingest(rev, LOCAL, { fresh: false }).ok).toBe(true)
    // routine rotation of the node's own key, a second later; gossip brings it to c before the revocation
    const { rot } = rotateNode(a, clock.ms + 2)
    expect(c.kit.ingest.ingest(rot, gossip, { fresh: false }).ok).toBe(true)
    const v = c.kit.ingest.ingest(rev, gossip, { fresh: true })
    expect({
      verdict: code(v),
      revokedOnA: a.kit.store.keyEvents.state(ag.did)?.revoked?.by ?? null,
      revokedOnC: c.kit.store.keyEvents.state(ag.did)?.revoked?.by ?? null,
      relayChargedOnC: c.kit.store.misc
        .peerFaults()
        .filter((f) => f.forged > 0)
        .map((f) => f.peer),
    }).toEqual({ verdict: 'ok', revokedOnA: 'controller', revokedOnC: 'controller', relayChargedOnC: [] })
  })

  it('every node that joins after the controller rotated learns the revocation from the controller itself, and charges nobody', async () => {
    const a = syncNode('controller a')
    const ag = hostedAgent(a, [a])
    const rev = createRevocation(a.kit.store.keyEvents.state(ag.did)!, a.kit.key, 'retired', clock.ms + 1)
    expect(a.kit.ingest.ingest(rev, LOCAL, { fresh: false }).ok).toBe(true)
    rotateNode(a, clock.ms + 2)

    const late = syncNode('late joiner')
    net.connect(late.p2p, a.p2p)
    const result = await late.sync.client.round(a.kit.peerId)
    const refusals = auditEntries(late.kit.store)
      .filter((e) => e.kind === 'envelope.rejected')
      .map((e) => e.code)
    expect({
      refusals,
      rejected: result?.rejected,
      revokedOnLate: late.kit.store.keyEvents.state(ag.did)?.revoked?.by ?? null,
    }).toEqual({ refusals: [], rejected: 0, revokedOnLate: 'controller' })
  })

  it('a node that joins after the controller retired its own DID (SECURITY.md recovery) still sees the agents it revoked first as revoked', async () => {
    const a = syncNode('controller a')
    // 33 custodied agents whose seeds a thief took with the home folder (SECURITY.md, "the whole home folder")
    const agents = Array.from({ length: 33 }, () => hostedAgent(a, [a]))
    for (const ag of agents) {
      const rev = createRevocation(a.kit.store.keyEvents.state(ag.did)!, a.kit.key, 'home stolen', clock.ms + 1)
      expect(a.kit.ingest.ingest(rev, LOCAL, { fresh: false }).ok).toBe(true)
    }
    // "revoke the custodied agents, then the node's DID"
    const selfRev = createRevocation(a.kit.store.keyEvents.state(a.kit.did)!, a.kit.key, 'home stolen', clock.ms + 2)
    expect(a.kit.ingest.ingest(selfRev, LOCAL, { fresh: false }).ok).toBe(true)
    const late = syncNode('late joiner')
    net.connect(late.p2p, a.p2p)
    await late.sync.client.round(a.kit.peerId)
    // the thief signs as a revoked agent with the seed it stole
    const thiefMsg = createMessage(
      { from: agents[0]!.did, to: null, body: 'still me', ts: clock.ms, nonce: new Uint8Array(16).fill(9) },
      agents[0]!.key,
    )
    const refusals = auditEntries(late.kit.store).filter((e) => e.kind === 'envelope.rejected').length
    const v = late.kit.ingest.ingest(thiefMsg, gossip, { fresh: true })
    expect({
      revokedOnLate: agents.filter((ag) => late.kit.store.keyEvents.state(ag.did)?.revoked != null).length,
      thiefMessage: code(v),
      refusals,
      penalised: late.p2p.penalties.map((p) => p.peerId),
    }).toEqual({ revokedOnLate: 33, thiefMessage: 'REVOKED', refusals: 0, penalised: [] })
  })
})

describe('a registration that names the DID itself as its controller', () => {
  it('does not let the DID’s own revocation skip the key event rules (next seq, prev the last event)', () => {
    const n = syncNode('node n')
    const ag = kitAgent(n.kit.random, clock.ms, { controller: n.kit.did, peerId: n.kit.peerId })
    const selfReg = createRegistration(
      {
        did: ag.did,
        name: 'self',
        capabilities: [{ type: 'test' }],
        controller: ag.did,
        peerId: n.kit.peerId,
        ts: clock.ms,
      },
      ag.key,
    )
    expect(n.kit.ingest.ingest(ag.icp, gossip, { fresh: false }).ok).toBe(true)
    expect(n.kit.ingest.ingest(selfReg, gossip, { fresh: false }).ok).toBe(true)
    // a revocation signed by the DID's own current key at seq 77 on a log of one event, with a made-up prev
    const rev = signEnvelope<RevEnvelope>(
      { v: 1, type: 'rev', did: ag.did, seq: 77, prev: 'f'.repeat(64), reason: 'garbage', ts: clock.ms + 1 },
      ag.key,
    )
    const v = n.kit.ingest.ingest(rev, gossip, { fresh: false })
    // docs/protocol.md §6: "A revocation by the DID's own key is the DID's next event (seq n = the last event's + 1,
    // prev its id)" — and a node without the registration refuses it, so the mesh splits on it
    expect({ verdict: code(v), stored: n.kit.store.keyEvents.log(ag.did).map((e) => `${e.type}@${e.seq}`) }).toEqual({
      verdict: 'KEL_INVALID',
      stored: ['icp@0'],
    })
  })
})

describe('two different revocations of one DID by its controller on two nodes', () => {
  it('a converged pair stops fetching the one it cannot take', async () => {
    const a = syncNode('controller a')
    const c = syncNode('node c')
    knowOwnLog(a, [c])
    const ag = hostedAgent(a, [a, c])
    const state = a.kit.store.keyEvents.state(ag.did)!
    const r1 = createRevocation(state, a.kit.key, 'one', clock.ms + 1)
    const r2 = createRevocation(state, a.kit.key, 'two', clock.ms + 1)
    expect(a.kit.ingest.ingest(r1, LOCAL, { fresh: false }).ok).toBe(true)
    expect(c.kit.ingest.ingest(r2, gossip, { fresh: false }).ok).toBe(true)
    net.connect(c.p2p, a.p2p)
    const rounds = []
    for (let i = 0; i < 3; i++) rounds.push(await c.sync.client.round(a.kit.peerId))
    // the first round fetches r1 (DUPLICATE where r2 is held); later rounds should not fetch it again
    expect(rounds.slice(1).map((r) => r?.duplicates ?? 0)).toEqual([0, 0])
  })
})

describe('the rotation that raced a revocation, delivered again', () => {
  it('is audited once (decision 0044: each node "neither fetches nor audits them again")', () => {
    const a = syncNode('controller a')
    const ag = hostedAgent(a, [a])
    const before = a.kit.store.keyEvents.state(ag.did)!
    const rev = createRevocation(before, a.kit.key, 'compromised', clock.ms + 1)
    expect(a.kit.ingest.ingest(rev, LOCAL, { fresh: false }).ok).toBe(true)
    const rot = createRotation(before, ag.key, ag.next, clock.ms + 2, generateKeyPair())
    const codes = []
    for (let i = 0; i < 5; i++)
      codes.push(code(a.kit.ingest.ingest(rot, { kind: 'gossip', peer: `p${i}` }, { fresh: true })))
    const audited = auditEntries(a.kit.store).filter((e) => e.kind === 'envelope.rejected').length
    expect({ first: codes[0], audited }).toEqual({ first: 'REVOKED', audited: 1 })
  })
})

describe('the thief of a revoked agent’s seed', () => {
  it('cannot make a node store and audit conflicting key events without bound', () => {
    const a = syncNode('controller a')
    const ag = hostedAgent(a, [a])
    const rev = createRevocation(a.kit.store.keyEvents.state(ag.did)!, a.kit.key, 'seed stolen', clock.ms + 1)
    expect(a.kit.ingest.ingest(rev, LOCAL, { fresh: false }).ok).toBe(true)
    const before = auditEntries(a.kit.store).length
    // the thief holds the inception key: each inception with another `next` (or ts) is "a second event at seq 0"
    const codes = new Set<string>()
    for (let i = 0; i < 50; i++) {
      const icp = createInception(ag.key, clock.ms + 10 + i, generateKeyPair())
      codes.add(code(a.kit.ingest.ingest(icp, { kind: 'gossip', peer: `p${i % 3}` }, { fresh: true })))
    }
    // one conflict at seq 0 is all the evidence there is; 50 rows, 50 audit entries and 50 gossips are not
    expect({
      codes: [...codes],
      duplicityRows: a.kit.store.keyEvents.duplicities(ag.did).length,
      auditGrowth: auditEntries(a.kit.store).length - before,
    }).toEqual({ codes: ['DUPLICITY'], duplicityRows: 1, auditGrowth: 1 })
  })
})

describe('an agent moved to another controller', () => {
  it('a node that served it under both controllers is not charged by a joiner for the old controller’s log', async () => {
    const a = syncNode('old controller a')
    const b = syncNode('new controller b')
    const c = syncNode('node c')
    knowOwnLog(a, [c])
    knowOwnLog(b, [c])
    const ag = hostedAgent(a, [c])
    const moved = createRegistration(
      {
        did: ag.did,
        name: 'agent',
        capabilities: [{ type: 'test' }],
        controller: b.kit.did,
        peerId: b.kit.peerId,
        ts: clock.ms + 1,
      },
      ag.key,
    )
    expect(c.kit.ingest.ingest(moved, gossip, { fresh: false }).ok).toBe(true)
    const fresh = syncNode('node d') // holds the same registry as c: the moved registration
    for (const e of [...b.kit.store.keyEvents.log(b.kit.did), ag.icp, moved])
      fresh.kit.ingest.ingest(e, LOCAL, { fresh: false })
    const late = syncNode('late joiner')
    net.connect(late.p2p, c.p2p)
    await late.sync.client.round(c.kit.peerId)
    expect({
      sameRoot: c.sync.index.fingerprint('').count === fresh.sync.index.fingerprint('').count,
      charged: late.kit.store.misc
        .peerFaults()
        .filter((f) => f.forged > 0)
        .map((f) => f.peer),
    }).toEqual({ sameRoot: true, charged: [] })
  })
})
