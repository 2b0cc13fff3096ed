// The owner's rotation replaces a revocation a thief signed with the key that rotation retired (review 104 M1,
// docs/protocol.md §6, decision 0075): in-memory nodes on the fake mesh, by gossip and by sync in either order,
// a node syncing from the node that took the thief's revocation, and the controller's revocation on top.
import { describe, expect, it } from 'vitest'
import {
  createRegistration,
  createRevocation,
  createRotation,
  envelopeId,
  generateKeyPair,
  type KeyEvent,
} from '../../../node/core/index.js'
import { SHORT_ID_HEX } from '../../../node/core/registry-reconcile.js'
import { RefusedIds } from '../../../node/services/refused-ids.js'
import type { SyncNode } from '../../helpers/sync-node.js'
import { clock, code, hostedAgent, net, syncNode, useRevocationMesh } from '../../helpers/revocation-mesh.js'
import { auditEntries, type KitAgent } from '../../helpers/service-kit.js'

useRevocationMesh()

const gossip = { kind: 'gossip' as const, peer: 'thief' }

/** The owner's rotation (by the committed next key) with the registration its new key signs, and the thief's revocation. */
function theftAndRotation(host: SyncNode, ag: KitAgent): { rev: KeyEvent; rot: KeyEvent; reg2: unknown } {
  const before = host.kit.store.keyEvents.state(ag.did)!
  const rot = createRotation(before, ag.key, ag.next, clock.ms + 1, generateKeyPair())
  const fields = { did: ag.did, name: 'agent', capabilities: [{ type: 'test' }] }
  const reg2 = createRegistration(
    { ...fields, controller: host.kit.did, peerId: host.kit.peerId, ts: clock.ms + 2 },
    ag.next,
  )
  return { rev: createRevocation(before, ag.key, 'stolen', clock.ms + 3), rot, reg2 }
}

/** What a node holds of the DID: its state as the owner's comparison needs it, and every trace of the revocation. */
function view(n: SyncNode, did: string) {
  const s = n.kit.store.keyEvents.state(did)
  return {
    seq: s?.seq,
    key: s?.key,
    revoked: s?.revoked?.by ?? null,
    log: n.kit.store.keyEvents.log(did).map((e) => e.type),
    listed: n.kit.store.keyEvents.revoked().some((r) => r.state.did === did),
    revokedEvidence: n.kit.store.trust.get('revoked', did).failures,
    duplicities: auditEntries(n.kit.store).filter((e) => e.kind === 'duplicity').length,
  }
}

const owner = (o: SyncNode, did: string) => ({ ...view(o, did), log: ['icp', 'rot'] })

describe('a revocation by the retired key against the owner’s rotation', () => {
  it('by gossip, revocation first: the rotation replaces it, audited as such; the revocation again is old history', () => {
    const o = syncNode('owner host')
    const r = syncNode('lagging node')
    const ag = hostedAgent(o, [o, r])
    const { rev, rot, reg2 } = theftAndRotation(o, ag)
    for (const e of [rot, reg2]) expect(code(o.kit.ingest.ingest(e, { kind: 'local' }, { fresh: false }))).toBe('ok')
    expect(code(r.kit.ingest.ingest(rev, gossip, { fresh: false }))).toBe('ok')
    expect(view(r, ag.did)).toMatchObject({ revoked: 'self', listed: true, revokedEvidence: 1 })
    expect(code(r.kit.ingest.ingest(rot, gossip, { fresh: false }))).toBe('ok')
    expect(code(r.kit.ingest.ingest(reg2, gossip, { fresh: false }))).toBe('ok')
    expect(code(r.kit.ingest.ingest(rev, gossip, { fresh: false }))).toBe('DUPLICATE')
    expect(view(r, ag.did)).toEqual(owner(o, ag.did))
    const rotated = auditEntries(r.kit.store).find((e) => e.envelopeId === envelopeId(rot))
    expect(rotated).toMatchObject({ kind: 'key.rotated', data: { replaces: envelopeId(rev) } })
    // the agent.revoked entry written before stays: the audit log is append-only
    expect(auditEntries(r.kit.store).filter((e) => e.kind === 'agent.revoked')).toHaveLength(1)
    expect([r.sync.index.has(envelopeId(rev)), r.sync.index.has(envelopeId(rot))]).toEqual([false, true])
  })

  it('by sync, and a joiner that synced from the wrong node first: every node ends in the owner’s state', async () => {
    const o = syncNode('owner host')
    const r = syncNode('lagging node')
    const j = syncNode('joiner')
    const ag = hostedAgent(o, [o, r])
    const { rev, rot, reg2 } = theftAndRotation(o, ag)
    for (const e of [rot, reg2]) expect(code(o.kit.ingest.ingest(e, { kind: 'local' }, { fresh: false }))).toBe('ok')
    expect(code(r.kit.ingest.ingest(rev, gossip, { fresh: false }))).toBe('ok')
    net.connect(j.p2p, r.p2p)
    await j.sync.client.round(r.kit.peerId)
    expect(view(j, ag.did)).toMatchObject({ revoked: 'self' })
    net.connect(r.p2p, o.p2p)
    await r.sync.client.round(o.kit.peerId)
    await j.sync.client.round(r.kit.peerId)
    expect({ r: view(r, ag.did), j: view(j, ag.did) }).toEqual({ r: owner(o, ag.did), j: owner(o, ag.did) })
    // nothing was refused on the way, so no peer was charged
    const refused = [r, j].flatMap((n) => auditEntries(n.kit.store).filter((e) => e.kind === 'envelope.rejected'))
    expect(refused).toEqual([])
  })

  it('the controller’s revocation, refused by sync while the thief’s stood, is fetched again and taken after the rotation', async () => {
    const o = syncNode('owner host')
    const p = syncNode('peer without the rotation')
    const r = syncNode('lagging node')
    const ag = hostedAgent(o, [o, p, r])
    const { rev, rot } = theftAndRotation(o, ag)
    const byController = createRevocation(o.kit.store.keyEvents.state(ag.did)!, o.kit.key, 'ended', clock.ms + 4)
    expect(code(p.kit.ingest.ingest(byController, gossip, { fresh: false }))).toBe('ok')
    expect(code(r.kit.ingest.ingest(rev, gossip, { fresh: false }))).toBe('ok')
    net.connect(r.p2p, p.p2p)
    await r.sync.client.round(p.kit.peerId) // "revoked already": not stored, remembered for p
    expect(view(r, ag.did)).toMatchObject({ revoked: 'self', log: ['icp', 'rev'] })
    expect(code(r.kit.ingest.ingest(rot, gossip, { fresh: false }))).toBe('ok')
    expect(view(r, ag.did).revoked).toBeNull()
    await r.sync.client.round(p.kit.peerId)
    expect(view(r, ag.did)).toMatchObject({ revoked: 'controller', log: ['icp', 'rot', 'rev'], listed: true })
    expect(view(r, ag.did)).toMatchObject({ revokedEvidence: 1, duplicities: 0 })
  })
})

describe('what sync remembers of a DID its own revocation held', () => {
  it('a revocation refused as a duplicate, and a REVOKED item, are fetched again once the DID’s log moves on', () => {
    const refused = new RefusedIds()
    const did = 'did:msig:x'
    refused.remember('a'.repeat(64), 'DUPLICATE', 'peer', { type: 'rev', did })
    refused.remember('b'.repeat(64), 'REVOKED', 'peer', { type: 'reg', did })
    refused.remember('c'.repeat(64), 'DUPLICATE', 'peer', { type: 'reg', did })
    const held = () => ['a', 'b', 'c'].map((x) => refused.has('peer', x.repeat(SHORT_ID_HEX)))
    expect(held()).toEqual([true, true, true])
    refused.advanced(did)
    expect(held()).toEqual([false, false, true])
  })
})
