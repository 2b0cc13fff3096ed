// A revocation by the controller against the moves of an agent that holds its own keys (decision 0044,
// docs/protocol.md §6): ingestion and registry sync between in-memory nodes on the fake mesh.
import { describe, expect, it } from 'vitest'
import {
  createMessage,
  createRegistration,
  createRevocation,
  createRotation,
  generateKeyPair,
  type KeyPair,
} from '../../../node/core/index.js'
import type { SyncNode } from '../../helpers/sync-node.js'
import { clock, hostedAgent, net, syncNode, useRevocationMesh } from '../../helpers/revocation-mesh.js'
import { auditEntries, type KitAgent } from '../../helpers/service-kit.js'

useRevocationMesh()

const gossip = { kind: 'gossip' as const, peer: 'relay' }

function reRegistration(ag: KitAgent, key: KeyPair, controller: SyncNode, ts: number) {
  return createRegistration(
    {
      did: ag.did,
      name: 'agent',
      capabilities: [{ type: 'test' }],
      controller: controller.kit.did,
      peerId: controller.kit.peerId,
      ts,
    },
    key,
  )
}

describe('a rotation with its new registration first, the revocation after it', () => {
  it('a node that joins later from the node that took the rotation first learns the revocation, and charges nobody', async () => {
    const a = syncNode('controller a')
    const c = syncNode('node c')
    for (const e of a.kit.store.keyEvents.log(a.kit.did)) c.kit.ingest.ingest(e, { kind: 'local' }, { fresh: false })
    const ag = hostedAgent(a, [a, c])
    const before = a.kit.store.keyEvents.state(ag.did)!
    const rot = createRotation(before, ag.key, ag.next, clock.ms + 1, generateKeyPair())
    const reg2 = reRegistration(ag, ag.next, a, clock.ms + 2)
    expect(c.kit.ingest.ingest(rot, gossip, { fresh: false }).ok).toBe(true)
    expect(c.kit.ingest.ingest(reg2, gossip, { fresh: false }).ok).toBe(true)
    const rev = createRevocation(before, a.kit.key, 'compromised', clock.ms + 3)
    expect(c.kit.ingest.ingest(rev, gossip, { fresh: false }).ok).toBe(true)

    const late = syncNode('late joiner')
    net.connect(late.p2p, c.p2p)
    const result = await late.sync.client.round(c.kit.peerId)
    const refusals = auditEntries(late.kit.store)
      .filter((e) => e.kind === 'envelope.rejected')
      .map((e) => e.code)
    expect(refusals).toEqual([])
    expect(result?.rejected).toBe(0)
    expect(late.kit.store.keyEvents.state(ag.did)?.revoked?.by).toBe('controller')
  })
})

describe('a fork of the rotation before the revocation', () => {
  it('a node that took the other branch first takes the controller’s revocation too, and records the fork as duplicity', () => {
    const a = syncNode('controller a')
    const c = syncNode('node c')
    const ag = hostedAgent(a, [a, c])
    const before = a.kit.store.keyEvents.state(ag.did)!
    // the holder of the committed next key signs two rotations at seq 1 (different `next`)
    const rotX = createRotation(before, ag.key, ag.next, clock.ms + 1, generateKeyPair())
    const rotY = createRotation(before, ag.key, ag.next, clock.ms + 1, generateKeyPair())
    expect(a.kit.ingest.ingest(rotX, gossip, { fresh: false }).ok).toBe(true)
    expect(c.kit.ingest.ingest(rotY, gossip, { fresh: false }).ok).toBe(true)
    // the controller revokes at the head of the log it knows
    const rev = createRevocation(a.kit.store.keyEvents.state(ag.did)!, a.kit.key, 'compromised', clock.ms + 2)
    expect(a.kit.ingest.ingest(rev, { kind: 'local' }, { fresh: false }).ok).toBe(true)
    const v = c.kit.ingest.ingest(rev, gossip, { fresh: false })
    // the other branch reaches c too: recorded as the DID's duplicity, c keeps its own first branch
    expect(c.kit.ingest.ingest(rotX, gossip, { fresh: false })).toMatchObject({
      ok: false,
      error: { code: 'DUPLICITY' },
    })
    const again = c.kit.ingest.ingest(rev, gossip, { fresh: false })
    const usable = c.kit.ingest.ingest(
      createMessage(
        { from: ag.did, to: null, body: 'still here', ts: clock.ms, nonce: new Uint8Array(16).fill(2) },
        ag.next,
      ),
      gossip,
      { fresh: true },
    )
    expect({
      rev: v.ok ? 'accepted' : v.error.code,
      revAgain: again.ok ? 'accepted' : again.error.code,
      revokedOnC: c.kit.store.keyEvents.state(ag.did)?.revoked !== null,
      revokedOnA: a.kit.store.keyEvents.state(ag.did)?.revoked !== null,
      messageUnderRotatedKeyOnC: usable.ok,
    }).toEqual({
      rev: 'accepted',
      revAgain: 'DUPLICATE',
      revokedOnC: true,
      revokedOnA: true,
      messageUnderRotatedKeyOnC: false,
    })
  })
})

describe('the same revocation by the controller again', () => {
  it('is DUPLICATE and audits nothing', () => {
    const a = syncNode('controller a')
    const ag = hostedAgent(a, [a])
    const rev = createRevocation(a.kit.store.keyEvents.state(ag.did)!, a.kit.key, 'done', clock.ms + 1)
    expect(a.kit.ingest.ingest(rev, { kind: 'local' }, { fresh: false }).ok).toBe(true)
    const before = auditEntries(a.kit.store).length
    const again = a.kit.ingest.ingest(rev, { kind: 'local' }, { fresh: false })
    // docs/protocol.md §6: "The same event again is DUPLICATE" (it was, before 0044: the state's seq was the rev's)
    expect({ code: again.ok ? 'ok' : again.error.code, audited: auditEntries(a.kit.store).length - before }).toEqual({
      code: 'DUPLICATE',
      audited: 0,
    })
  })
})

describe('junk naming a revoked DID', () => {
  it('is REVOKED and audits nothing, however much of it comes; a message its key signed is audited', () => {
    const a = syncNode('node a')
    const ag = hostedAgent(a, [a])
    const rev = createRevocation(a.kit.store.keyEvents.state(ag.did)!, a.kit.key, 'done', clock.ms + 1)
    expect(a.kit.ingest.ingest(rev, { kind: 'local' }, { fresh: false }).ok).toBe(true)
    const before = auditEntries(a.kit.store).length
    for (let i = 0; i < 20; i++) {
      const nonce = new Uint8Array(16).fill(i)
      const junk = createMessage({ from: ag.did, to: null, body: `junk ${i}`, ts: clock.ms, nonce }, generateKeyPair())
      const v = a.kit.ingest.ingest(junk, gossip, { fresh: true })
      expect(v.ok ? 'ok' : v.error.code).toBe('REVOKED')
    }
    expect(auditEntries(a.kit.store).length - before).toBe(0)
    const signed = createMessage(
      { from: ag.did, to: null, body: 'me', ts: clock.ms, nonce: new Uint8Array(16).fill(99) },
      ag.key,
    )
    expect(a.kit.ingest.ingest(signed, gossip, { fresh: true }).ok).toBe(false)
    expect(auditEntries(a.kit.store).length - before).toBe(1)
  })
})

describe('a rogue controller racing its own agents', () => {
  it('17 of its own agents rotated, registered again and revoked behind: a late joiner penalises nobody', async () => {
    const rogue = syncNode('rogue controller')
    const c = syncNode('honest node c')
    for (const e of rogue.kit.store.keyEvents.log(rogue.kit.did))
      c.kit.ingest.ingest(e, { kind: 'local' }, { fresh: false })
    for (let i = 0; i < 17; i++) {
      const ag = hostedAgent(rogue, [c])
      const before = c.kit.store.keyEvents.state(ag.did)!
      // the rogue holds its agents' keys: rotation and a registration under the new key first (custodied agents get
      // that registration from the rotation itself, key-service resignRegistration) ...
      const rot = createRotation(before, ag.key, ag.next, clock.ms + 1, generateKeyPair())
      expect(c.kit.ingest.ingest(rot, gossip, { fresh: false }).ok).toBe(true)
      expect(c.kit.ingest.ingest(reRegistration(ag, ag.next, rogue, clock.ms + 2), gossip, { fresh: false }).ok).toBe(
        true,
      )
      // ... then its own revocation signed on the log before the rotation: taken (decision 0044)
      expect(
        c.kit.ingest.ingest(createRevocation(before, rogue.kit.key, 'x', clock.ms + 3), gossip, { fresh: false }).ok,
      ).toBe(true)
    }
    const late = syncNode('late joiner')
    net.connect(late.p2p, c.p2p)
    await late.sync.client.round(c.kit.peerId)
    expect(late.p2p.penalties.map((p) => p.peerId)).toEqual([])
  })
})

describe('what the rule does not give', () => {
  it('a former controller cannot use the new rule; a thief with the retired key cannot revoke or frame; one rev stored at most', () => {
    const c1 = syncNode('former controller')
    const c2 = syncNode('new controller')
    const n = syncNode('node n')
    const ag = hostedAgent(c1, [n])
    const before = n.kit.store.keyEvents.state(ag.did)!
    const rot = createRotation(before, ag.key, ag.next, clock.ms + 1, generateKeyPair())
    expect(n.kit.ingest.ingest(rot, gossip, { fresh: false }).ok).toBe(true)
    expect(n.kit.ingest.ingest(reRegistration(ag, ag.next, c2, clock.ms + 2), gossip, { fresh: false }).ok).toBe(true)
    // the former controller's revocation on the old log: refused, DID not revoked
    const old = n.kit.ingest.ingest(createRevocation(before, c1.kit.key, 'x', clock.ms + 3), gossip, { fresh: false })
    expect(old.ok).toBe(false)
    // the thief with the retired key: DUPLICATE (old history), no duplicity recorded
    const thief = n.kit.ingest.ingest(createRevocation(before, ag.key, 'stolen', clock.ms + 3), gossip, {
      fresh: false,
    })
    expect(thief.ok ? 'ok' : thief.error.code).toBe('DUPLICATE')
    expect(n.kit.store.keyEvents.duplicities(ag.did)).toEqual([])
    expect(n.kit.store.keyEvents.state(ag.did)?.revoked).toBeNull()
    // the current controller, behind: taken; any further one: DUPLICATE and not stored
    expect(
      n.kit.ingest.ingest(createRevocation(before, c2.kit.key, 'y', clock.ms + 4), gossip, { fresh: false }).ok,
    ).toBe(true)
    for (let i = 0; i < 5; i++) {
      const v = n.kit.ingest.ingest(createRevocation(before, c2.kit.key, `again ${i}`, clock.ms + 5 + i), gossip, {
        fresh: false,
      })
      expect(v.ok ? 'ok' : v.error.code).toBe('DUPLICATE')
    }
    expect(n.kit.store.keyEvents.log(ag.did).map((e) => e.type)).toEqual(['icp', 'rot', 'rev'])
    expect(n.kit.store.keyEvents.duplicities(ag.did)).toEqual([])
  })
})
