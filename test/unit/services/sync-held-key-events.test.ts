// Review 120 H1 and M1 (decision 0085): a rotation or revocation of a held (empty) inception was held unchecked,
// from anyone, up to 256 per DID. A registration then released the forgeries and they were charged to the peer
// that served the registration (an honest peer banned); and ~1 M of them could sit in memory, charged to nobody.
import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import {
  encodeEnvelope,
  decodeEnvelope,
  envelopeId,
  toB64,
  type Envelope,
  type KeyEvent,
} from '../../../node/core/index.js'
import type { AdmissionLimits } from '../../../node/services/sync-admission.js'
import { kitAgent, type KitNode } from '../../helpers/service-kit.js'
import { heldPoolKit, rotatedAgent, type HeldPoolKit } from './held-pool-kit.js'

let n: KitNode
afterEach(() => n.close())

/** A node's ingest and admission pool, and `apply`: what `peer` serves it by sync. */
function setup(limits?: AdmissionLimits): HeldPoolKit {
  const kit = heldPoolKit(limits)
  n = kit.n
  return kit
}

/** A forged key event of `icp`'s DID at seq 1, as a rogue's sync answer decodes it (random signatures). */
function forgery(icp: KeyEvent, type: 'rot' | 'rev'): Envelope {
  const head = { v: 1, type, did: icp.did, seq: 1, prev: envelopeId(icp), ts: n.clock.ms, sig: toB64(randomBytes(64)) }
  const raw =
    type === 'rot'
      ? { ...head, key: toB64(randomBytes(32)), next: null, sig2: toB64(randomBytes(64)) }
      : { ...head, reason: 'x'.repeat(512) }
  return decodeEnvelope(encodeEnvelope(raw as unknown as Envelope))
}

describe('key events of held inceptions', () => {
  it('are refused when forged, charged to the peer that sent them, never to the one serving the registration', async () => {
    const { store, apply, forgedOf } = setup()
    const agents = Array.from({ length: 16 }, () => kitAgent(n.random, n.clock.ms, { controller: n.did, peerId: 'h' }))
    expect(
      (
        await apply(
          'rogue',
          agents.map((a) => a.icp),
        )
      ).held,
    ).toBe(16)

    const rogue = await apply(
      'rogue',
      agents.flatMap((a) => [...Array.from({ length: 16 }, () => forgery(a.icp, 'rot')), forgery(a.icp, 'rev')]),
    )
    // each forged rotation is the rogue's forgery; a revocation its own key did not sign may be its controller's
    // (unknown here), so it is held uncharged until the registration names the controller (review 123 M2)
    expect([rogue.forged, rogue.held]).toEqual([16 * 16, 16])
    expect(forgedOf('rogue')).toBe(16 * 16)

    const honest = await apply(
      'honest',
      agents.map((a) => a.reg),
    )
    // each inception and registration taken; each junk revocation refused, and charged to the rogue that sent it
    expect([honest.accepted, honest.rejected, honest.forged]).toEqual([32, 16, 0])
    expect([forgedOf('honest'), forgedOf('rogue')]).toEqual([0, 16 * 16 + 16])
    for (const a of agents) expect(store.keyEvents.state(a.did)).toMatchObject({ seq: 0, revoked: null })
  })

  it('hold a valid log up to its bound; the rest, and the registration, come by a later sync', async () => {
    const { store, admission, apply, forgedOf } = setup()
    const short = rotatedAgent(n, 3)
    const long = rotatedAgent(n, 20)
    const first = await apply('server', [...short.log, short.reg, ...long.log, long.reg])
    expect(admission.size()).toBe(0)
    expect(store.agents.get(short.did)).toBeDefined() // honest catch-up of a short log in one pass
    expect(store.keyEvents.state(long.did)?.seq).toBe(16) // 16 rotations held, then released with the inception
    expect(store.agents.get(long.did)).toBeUndefined() // checked against a part of its log it would have failed
    expect([first.forged, forgedOf('server')]).toEqual([0, 0])

    const next = await apply('server', [...long.log, long.reg]) // the next round, its log stored now
    expect(store.keyEvents.state(long.did)?.seq).toBe(20)
    expect(store.agents.get(long.did)).toBeDefined()
    expect([next.forged, forgedOf('server')]).toEqual([0, 0])
  })

  it('are bounded over all held DIDs', async () => {
    const { store, admission, apply } = setup({ maxHeld: 4096, maxHeldPerPeer: 256, maxEvents: 8 })
    const agents = Array.from({ length: 3 }, () => rotatedAgent(n, 4))
    await apply(
      'server',
      agents.flatMap((a) => a.log),
    )
    const held = [admission.size(), admission.events()]
    await apply(
      'server',
      agents.map((a) => a.reg),
    )
    expect(agents.map((a) => store.keyEvents.state(a.did)?.seq)).toEqual([4, 4, 0])
    expect(agents.map((a) => store.agents.get(a.did) !== undefined)).toEqual([true, true, false])
    expect(held).toEqual([3, 8])
    expect(admission.events()).toBe(0)
  })
})
