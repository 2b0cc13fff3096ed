/**
 * The retired-key copy of a registration refused `DUPLICATE` (review 79):
 * a thief of alice's retired key k0 registered "mallory-alice" under it,
 * future-dated; alice rotated and registered anew under k1; the thief
 * re-signed that registration with k0 (same content, same id) and served it
 * by sync first. Refused as superseded by the thief's later one
 * (`DUPLICATE`), it was remembered for every peer, so the victim never
 * fetched the genuine copy, which would have replaced the thief's. Only
 * revoked DIDs and full key logs or registries are remembered for every peer
 * now (node/services/refused-ids.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  createRegistration,
  createRotation,
  decodeEnvelope,
  encodeEnvelope,
  envelopeId,
  generateKeyPair,
  signEnvelope,
  type Envelope,
  type RegEnvelope,
} from '../../node/core/index.js'
import { answerSync } from '../../node/services/sync.js'
import { FakeNetwork } from '../helpers/fake-p2p.js'
import { FixedClock, kitAgent } from '../helpers/service-kit.js'
import { syncNode, type SyncNode } from '../helpers/sync-node.js'

describe('REVIEW F: storedHistory turns the retired-key copy into DUPLICATE; a retired key re-signs a DID’s new registration and serves it by sync first', () => {
  let net: FakeNetwork
  let clock: FixedClock
  let a: SyncNode
  let b: SyncNode
  beforeEach(() => {
    net = new FakeNetwork()
    clock = new FixedClock()
    a = syncNode(net, clock, 'honest a')
    b = syncNode(net, clock, 'victim b')
  })
  afterEach(() => {
    a.kit.close()
    b.kit.close()
  })

  it.each([false, true])(
    'the victim takes the genuine registration from the honest peer (rogue first: %s)',
    async (rogueFirst) => {
      const alice = kitAgent(a.kit.random, clock.ms, { controller: a.kit.did, peerId: a.kit.peerId, name: 'alice' })
      const key2 = generateKeyPair(a.kit.random)
      for (const n of [a, b])
        for (const e of [alice.icp, alice.reg])
          expect(n.kit.ingest.ingest(e, { kind: 'local' }, { fresh: false }).ok).toBe(true)
      // mallory stole k0 and registers alice anew under it, dated a little ahead; both nodes take it (k0 is current)
      const thief = createRegistration(
        {
          did: alice.did,
          name: 'mallory-alice',
          capabilities: [{ type: 'chat' }],
          controller: a.kit.did,
          peerId: a.kit.peerId,
          ts: clock.ms + 20,
        },
        alice.key,
      )
      for (const n of [a, b]) expect(n.kit.ingest.ingest(thief, { kind: 'local' }, { fresh: false }).ok).toBe(true)
      // alice's key k0 leaked: she rotates to k1; both nodes take the rotation
      const rot1 = createRotation(a.kit.store.keyEvents.state(alice.did)!, alice.key, alice.next, clock.ms + 1, key2)
      for (const n of [a, b]) expect(n.kit.ingest.ingest(rot1, { kind: 'local' }, { fresh: false }).ok).toBe(true)
      // alice registers anew under k1; only a has it (b was offline)
      const init = {
        did: alice.did,
        name: 'alice-new',
        capabilities: [{ type: 'chat' }],
        controller: a.kit.did,
        peerId: a.kit.peerId,
        ts: clock.ms + 10,
      }
      const r2 = createRegistration(init, alice.next)
      expect(a.kit.ingest.ingest(r2, { kind: 'local' }, { fresh: false }).ok).toBe(true)
      // mallory holds the leaked k0: same content, signed by k0, same id
      const { sig: _s, ...unsigned } = r2
      const forged = signEnvelope<RegEnvelope>(unsigned, alice.key)
      expect(envelopeId(forged)).toBe(envelopeId(r2))
      expect(forged.sig).not.toBe(r2.sig)

      // the rogue serves a's registry with the re-signed copy in place of the genuine one
      const swap = (f: Uint8Array): Uint8Array => {
        try {
          const e = decodeEnvelope(f) as Envelope
          return envelopeId(e) === envelopeId(r2) ? encodeEnvelope(forged) : f
        } catch {
          return f
        }
      }
      const rogue = net.node('rogue', (req) =>
        [...answerSync(a.sync.index, req)].map((f) => (req.kind === 'items' || req.kind === 'page' ? swap(f) : f)),
      )
      if (rogueFirst) {
        net.connect(rogue, b.p2p)
        await b.sync.client.round('rogue')
        const codes = b.kit.store.auditEntries
          .entries(0, b.kit.store.auditEntries.count())
          .map((r) => JSON.parse(r.entry) as { kind: string; code: string | null })
          .filter((e) => e.kind === 'envelope.rejected')
          .map((e) => e.code)
        console.log('victim refusals after the rogue:', codes)
        console.log('after the rogue: victim holds', b.kit.store.agents.get(alice.did)?.name)
        net.disconnect('rogue', b.kit.peerId)
      }

      net.connect(a.p2p, b.p2p)
      await b.sync.client.round(a.kit.peerId)
      clock.ms += 120_000
      await b.sync.client.round(a.kit.peerId)
      const held = b.kit.store.agents.get(alice.did)
      console.log(
        'after the honest peer: victim holds',
        held?.name,
        held?.regId === envelopeId(r2) ? '(genuine r2)' : '(old r1)',
      )
      expect(held?.regId, 'the genuine registration from the honest peer').toBe(envelopeId(r2))
    },
  )
})
