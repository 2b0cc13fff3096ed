// Junk naming revoked DIDs, controllers whose key log differs or is unknown, the sync refused memory and
// the anchor counts (decision 0044). In-memory nodes on the fake mesh, as revocation-controller-keys.test.ts.
import { describe, expect, it } from 'vitest'
import {
  createMessage,
  createRegistration,
  createRevocation,
  createRotation,
  didFromPublicKey,
  envelopeId,
  generateKeyPair,
} from '../../../node/core/index.js'
import { RegistryIndex } from '../../../node/services/sync-index.js'
import {
  serveJunkSignature,
  chargedPeers,
  clock,
  code,
  hostedAgent,
  knowOwnLog,
  LOCAL,
  net,
  rejections,
  syncNode,
  useRevocationMesh,
} from '../../helpers/revocation-mesh.js'
import { auditEntries, kitAgent, type KitAgent } from '../../helpers/service-kit.js'

useRevocationMesh()

describe('a revoked DID’s own key events signed by junk keys', () => {
  it('junk rotations naming a revoked DID (signed by no key of it) are neither audited nor remembered without bound', () => {
    const a = syncNode('node a')
    const ag = hostedAgent(a, [a])
    const st = a.kit.store.keyEvents.state(ag.did)!
    expect(a.kit.ingest.ingest(createRevocation(st, a.kit.key, 'done', clock.ms + 1), LOCAL, { fresh: false }).ok).toBe(
      true,
    )
    const before = rejections(a)
    const ids: string[] = []
    const codes = new Set<string>()
    for (let i = 0; i < 40; i++) {
      // any key pair: the rotation is not signed by the DID's key; checkSequence says REVOKED before any signature check
      const junk = createRotation(st, generateKeyPair(), generateKeyPair(), clock.ms + 10 + i)
      ids.push(envelopeId(junk))
      codes.add(code(a.kit.ingest.ingest(junk, { kind: 'gossip', peer: 'rogue' }, { fresh: true })))
    }
    expect({
      codes: [...codes],
      audited: rejections(a) - before,
      attributedRows: ids.filter((id) => a.kit.store.misc.attributedSeen(id)).length,
      rogueCharged: chargedPeers(a).includes('rogue'),
    }).toEqual({ codes: ['REVOKED'], audited: 0, attributedRows: 0, rogueCharged: false })
  })

  it('junk revocations naming a revoked DID at the next seq are neither audited nor remembered without bound', () => {
    const a = syncNode('node a')
    const ag = hostedAgent(a, [a])
    const st = a.kit.store.keyEvents.state(ag.did)!
    expect(a.kit.ingest.ingest(createRevocation(st, a.kit.key, 'done', clock.ms + 1), LOCAL, { fresh: false }).ok).toBe(
      true,
    )
    const before = rejections(a)
    const ids: string[] = []
    for (let i = 0; i < 40; i++) {
      const junk = createRevocation(st, generateKeyPair(), `junk ${i}`, clock.ms + 10 + i)
      ids.push(envelopeId(junk))
      a.kit.ingest.ingest(junk, { kind: 'gossip', peer: 'rogue' }, { fresh: true })
    }
    expect({
      audited: rejections(a) - before,
      attributedRows: ids.filter((id) => a.kit.store.misc.attributedSeen(id)).length,
    }).toEqual({ audited: 0, attributedRows: 0 })
  })
})

describe('a controller whose key log is unknown here', () => {
  it('junk revocations of an agent naming a controller nobody has a log of are forgeries, charged to their deliverer', () => {
    const n = syncNode('node n')
    // the attacker's own agent, registered naming a controller DID whose inception is published nowhere
    const ghost = didFromPublicKey(generateKeyPair().publicKey)
    const ag = kitAgent(n.kit.random, clock.ms, { controller: ghost, peerId: n.kit.peerId })
    for (const e of [ag.icp, ag.reg])
      expect(n.kit.ingest.ingest(e, { kind: 'gossip', peer: 'rogue' }, { fresh: false }).ok).toBe(true)
    const st = n.kit.store.keyEvents.state(ag.did)!
    const before = rejections(n)
    const codes = new Set<string>()
    for (let i = 0; i < 40; i++) {
      const junk = createRevocation(st, generateKeyPair(), `junk ${i}`, clock.ms + 10 + i)
      codes.add(code(n.kit.ingest.ingest(junk, { kind: 'gossip', peer: 'rogue' }, { fresh: true })))
    }
    // not signed by the key the controller's DID names: charged, so the peer's standing pays for the flood
    expect({ codes: [...codes], rogueCharged: chargedPeers(n).includes('rogue') }).toEqual({
      codes: ['SIGNATURE_INVALID'],
      rogueCharged: true,
    })
    expect(rejections(n) - before).toBeLessThanOrEqual(40)
  })
})

describe('the refused set is keyed by the envelope id, which does not cover the signature', () => {
  it('a rogue peer serving a revocation with a junk signature does not stop a late joiner from ever fetching the real one', async () => {
    const a = syncNode('controller a')
    const ag = hostedAgent(a, [a])
    const rev = createRevocation(a.kit.store.keyEvents.state(ag.did)!, a.kit.key, 'seed stolen', clock.ms + 1)
    expect(a.kit.ingest.ingest(rev, LOCAL, { fresh: false }).ok).toBe(true)
    const revId = envelopeId(rev)
    // the rogue holds the same registry and answers honestly, but for the revocation's signature
    const rogue = syncNode('rogue r')
    for (const e of [...a.kit.store.keyEvents.log(a.kit.did), ag.icp, ag.reg, rev])
      rogue.kit.ingest.ingest(e, LOCAL, { fresh: false })
    serveJunkSignature(rogue, revId)
    const late = syncNode('late joiner')
    net.connect(late.p2p, rogue.p2p)
    await late.sync.client.round(rogue.kit.peerId)
    net.connect(late.p2p, a.p2p)
    const rounds = []
    for (let i = 0; i < 3; i++) rounds.push(await late.sync.client.round(a.kit.peerId))
    // the junk copy was refused (and charged to the rogue) under the real revocation's id; the real one came next
    const refusedJunk = auditEntries(late.kit.store).filter(
      (e) => e.envelopeId === revId && e.kind === 'envelope.rejected',
    )
    expect({ refusedJunk: refusedJunk.map((e) => e.code), acceptedFromA: rounds.map((r) => r?.accepted ?? 0) }).toEqual(
      {
        refusedJunk: ['SIGNATURE_INVALID'],
        acceptedFromA: [1, 0, 0],
      },
    )
    const thief = createMessage(
      { from: ag.did, to: null, body: 'still me', ts: clock.ms, nonce: new Uint8Array(16).fill(7) },
      ag.key,
    )
    expect({
      revokedOnLate: late.kit.store.keyEvents.state(ag.did)?.revoked?.by ?? null,
      thiefMessageOnLate: code(late.kit.ingest.ingest(thief, { kind: 'gossip', peer: 'x' }, { fresh: true })),
    }).toEqual({ revokedOnLate: 'controller', thiefMessageOnLate: 'REVOKED' })
  })
})

describe('anchor reference counts', () => {
  it('after any sequence of registrations, index load() serves exactly what the live index serves', () => {
    const n = syncNode('node n')
    const c1 = syncNode('controller c1')
    const c2 = syncNode('controller c2')
    knowOwnLog(c1, [n])
    knowOwnLog(c2, [n])
    const a = kitAgent(n.kit.random, clock.ms, { controller: c1.kit.did, peerId: c1.kit.peerId })
    const b = kitAgent(n.kit.random, clock.ms, { controller: c1.kit.did, peerId: c1.kit.peerId })
    for (const e of [a.icp, a.reg, b.icp, b.reg]) expect(n.kit.ingest.ingest(e, LOCAL, { fresh: false }).ok).toBe(true)
    const regOf = (ag: KitAgent, controller: string, ts: number) =>
      createRegistration(
        { did: ag.did, name: 'x', capabilities: [{ type: 'test' }], controller, peerId: n.kit.peerId, ts },
        ag.key,
      )
    const steps: [KitAgent, string][] = [
      [a, a.did],
      [a, c2.kit.did],
      [b, b.did],
      [b, c2.kit.did],
      [a, c1.kit.did],
      [b, b.did],
      [a, a.did],
      [a, b.did],
    ]
    steps.forEach(([ag, ctl], i) =>
      expect(n.kit.ingest.ingest(regOf(ag, ctl, clock.ms + 1 + i), LOCAL, { fresh: false }).ok).toBe(true),
    )
    const fresh = new RegistryIndex({ store: n.kit.store, selfDid: n.kit.did })
    fresh.load()
    const live = new Set(n.sync.index.idsUnder('', 1e6))
    const loaded = new Set(fresh.idsUnder('', 1e6))
    expect({
      same: [...live].sort().join() === [...loaded].sort().join(),
      c1: n.sync.index.isAnchored(c1.kit.did),
    }).toEqual({
      same: true,
      c1: false,
    })
    expect(n.sync.index.fingerprint('')).toEqual(fresh.fingerprint(''))
  })
})
