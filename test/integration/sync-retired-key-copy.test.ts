/**
 * A DID's retired (leaked) key re-signs the DID's genuine new registration
 * (same content, same id: the short id does not cover the signature) and a
 * rogue serves that copy by sync first. It was remembered as refused for every
 * peer, so the victim never fetched the genuine one from an honest peer until
 * restart: refused `ROTATED_KEY` (review 77 of decision 0052), or, once the
 * key's thief had registered under it, future-dated, refused as superseded
 * by the thief's (`DUPLICATE`, review 79), where the genuine copy would have
 * replaced the thief's. Only revoked DIDs and full key logs or registries are
 * remembered for every peer now (node/services/refused-ids.ts).
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

describe.each([false, true])(
  'a retired key re-signs a DID’s new registration (its thief registered first: %s)',
  (thiefFirst) => {
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
        const init = { did: alice.did, capabilities: [{ type: 'chat' }], controller: a.kit.did, peerId: a.kit.peerId }
        if (thiefFirst) {
          // mallory stole k0 and registers alice anew under it, dated a little ahead; both nodes take it (k0 is current)
          const thief = createRegistration({ ...init, name: 'mallory-alice', ts: clock.ms + 20 }, alice.key)
          for (const n of [a, b]) expect(n.kit.ingest.ingest(thief, { kind: 'local' }, { fresh: false }).ok).toBe(true)
        }
        // alice's key k0 leaked: she rotates to k1; both nodes take the rotation
        const rot1 = createRotation(a.kit.store.keyEvents.state(alice.did)!, alice.key, alice.next, clock.ms + 1, key2)
        for (const n of [a, b]) expect(n.kit.ingest.ingest(rot1, { kind: 'local' }, { fresh: false }).ok).toBe(true)
        // alice registers anew under k1; only a has it (b was offline)
        const r2 = createRegistration({ ...init, name: 'alice-new', ts: clock.ms + 10 }, alice.next)
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

          net.disconnect('rogue', b.kit.peerId)
        }

        net.connect(a.p2p, b.p2p)
        await b.sync.client.round(a.kit.peerId)
        clock.ms += 120_000
        await b.sync.client.round(a.kit.peerId)
        const held = b.kit.store.agents.get(alice.did)

        expect(held?.regId, 'the genuine registration from the honest peer').toBe(envelopeId(r2))
      },
    )
  },
)
