// Revoked DIDs and revoked controllers: what is charged, audited, remembered by sync, or still duplicity
// (decision 0044). In-memory nodes on the fake mesh, as revocation-junk-sync.test.ts.
import { describe, expect, it } from 'vitest'
import {
  createRegistration,
  createRevocation,
  createRotation,
  envelopeId,
  generateKeyPair,
} from '../../../node/core/index.js'
import {
  clock,
  code,
  forgedBy,
  LOCAL,
  net,
  syncNode,
  useRevocationMesh,
  serveJunkSignature,
} from '../../helpers/revocation-mesh.js'
import { auditEntries, kitAgent } from '../../helpers/service-kit.js'

useRevocationMesh()

describe('an agent whose controller is revoked', () => {
  it('junk revocations naming an agent whose controller is revoked (attacker-made) are charged to the relay', () => {
    const victim = syncNode('victim')
    // the attacker's own controller C (any DID), its agent X naming C, then C revokes itself
    const c = syncNode('attacker controller')
    for (const e of c.kit.store.keyEvents.log(c.kit.did)) victim.kit.ingest.ingest(e, LOCAL, { fresh: false })
    // C rotated 8 times first: every junk revocation is then tried under 9 keys of C, plus X's own key
    let cKey = c.kit.key
    for (let i = 0; i < 8; i++) {
      const k = generateKeyPair()
      const rot = createRotation(c.kit.store.keyEvents.state(c.kit.did)!, cKey, k, clock.ms + 1 + i)
      expect(code(c.kit.ingest.ingest(rot, LOCAL, { fresh: false }))).toBe('ok')
      expect(code(victim.kit.ingest.ingest(rot, { kind: 'gossip', peer: 'rogue' }, { fresh: false }))).toBe('ok')
      cKey = k
    }
    const x = kitAgent(c.kit.random, clock.ms, { controller: c.kit.did, peerId: c.kit.peerId })
    for (const e of [x.icp, x.reg])
      expect(code(victim.kit.ingest.ingest(e, { kind: 'gossip', peer: 'rogue' }, { fresh: false }))).toBe('ok')
    const cRev = createRevocation(c.kit.store.keyEvents.state(c.kit.did)!, cKey, 'self', clock.ms + 20)
    expect(code(victim.kit.ingest.ingest(cRev, { kind: 'gossip', peer: 'rogue' }, { fresh: false }))).toBe('ok')
    // now junk: any key, X's next seq and prev (so X's own-key check runs too): 10 Ed25519 checks each
    const st = victim.kit.store.keyEvents.state(x.did)!
    const codes = new Set<string>()
    for (let i = 0; i < 50; i++) {
      const junk = createRevocation(st, generateKeyPair(), `junk ${i}`, clock.ms + 100 + i)
      codes.add(code(victim.kit.ingest.ingest(junk, { kind: 'gossip', peer: 'rogue' }, { fresh: true })))
    }
    // forgeries: a gossip 'reject' (score penalty), charged each time
    expect({ codes: [...codes], rogueForged: forgedBy(victim)['rogue'] ?? 0 }).toEqual({
      codes: ['SIGNATURE_INVALID'],
      rogueForged: 50,
    })
  })
})

describe('a rogue peer serving a forged item', () => {
  it('a rogue peer serving the same forged item every round is fetched, verified and audited once, or penalised', async () => {
    const rogue = syncNode('rogue r')
    const x = kitAgent(rogue.kit.random, clock.ms, { controller: rogue.kit.did, peerId: rogue.kit.peerId })
    for (const e of [x.icp, x.reg]) expect(rogue.kit.ingest.ingest(e, LOCAL, { fresh: false }).ok).toBe(true)
    const rot = createRotation(rogue.kit.store.keyEvents.state(x.did)!, x.key, x.next, clock.ms + 1)
    expect(rogue.kit.ingest.ingest(rot, LOCAL, { fresh: false }).ok).toBe(true)
    const rotId = envelopeId(rot)
    serveJunkSignature(rogue, rotId)
    const late = syncNode('late joiner')
    net.connect(late.p2p, rogue.p2p)
    const rounds = 6
    for (let i = 0; i < rounds; i++) await late.sync.client.round(rogue.kit.peerId)
    const audited = auditEntries(late.kit.store).filter(
      (e) => e.envelopeId === rotId && e.kind === 'envelope.rejected',
    ).length
    const banned = late.sync.client.isBanned(rogue.kit.peerId)
    // once audited (remembered), or the rogue banned after repeating the same forgery: not both false
    expect({
      auditedOnceOrBanned: audited === 1 || banned,
      audited,
      banned,
      forged: forgedBy(late)[rogue.kit.peerId],
    }).toMatchObject({
      auditedOnceOrBanned: true,
    })
  })
})

describe('a revocation of a revoked DID', () => {
  it('a self-revoked DID’s conflicting self-signed revocation at the same seq is still its duplicity', () => {
    const n = syncNode('node n')
    const x = kitAgent(n.kit.random, clock.ms, { controller: n.kit.did, peerId: n.kit.peerId })
    for (const e of [x.icp, x.reg]) expect(n.kit.ingest.ingest(e, LOCAL, { fresh: false }).ok).toBe(true)
    const st = n.kit.store.keyEvents.state(x.did)!
    const r1 = createRevocation(st, x.key, 'one', clock.ms + 1)
    const r2 = createRevocation(st, x.key, 'two', clock.ms + 2)
    expect(code(n.kit.ingest.ingest(r1, { kind: 'gossip', peer: 'p' }, { fresh: true }))).toBe('ok')
    expect(code(n.kit.ingest.ingest(r2, { kind: 'gossip', peer: 'p' }, { fresh: true }))).toBe('DUPLICITY')
  })
})

describe('a revoked DID’s own signed events', () => {
  it('after a revoked DID’s raced rotation is audited, a registration its last key signs moving it elsewhere is audited too', () => {
    const n = syncNode('node n')
    const x = kitAgent(n.kit.random, clock.ms, { controller: n.kit.did, peerId: n.kit.peerId })
    for (const e of [x.icp, x.reg]) expect(n.kit.ingest.ingest(e, LOCAL, { fresh: false }).ok).toBe(true)
    const st = n.kit.store.keyEvents.state(x.did)!
    expect(
      code(n.kit.ingest.ingest(createRevocation(st, n.kit.key, 'stolen', clock.ms + 1), LOCAL, { fresh: false })),
    ).toBe('ok')
    const k2 = generateKeyPair()
    const raced = createRotation(st, x.key, x.next, clock.ms + 1, k2)
    const moved = createRegistration(
      {
        did: x.did,
        name: 'evil',
        capabilities: [{ type: 'pay' }],
        controller: x.did,
        peerId: n.kit.peerId,
        ts: clock.ms + 5,
      },
      x.key,
    )
    const g = { kind: 'gossip' as const, peer: 'p' }
    const codes = [
      code(n.kit.ingest.ingest(raced, g, { fresh: true })),
      code(n.kit.ingest.ingest(moved, g, { fresh: true })),
    ]
    const audited = [envelopeId(raced), envelopeId(moved)].map(
      (id) => auditEntries(n.kit.store).filter((e) => e.envelopeId === id && e.kind === 'envelope.rejected').length,
    )
    expect({ codes, audited }).toEqual({ codes: ['REVOKED', 'REVOKED'], audited: [1, 1] })
  })
})
