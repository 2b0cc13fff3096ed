// Review 123 M2, L1 and L2 (decision 0087). A revocation of a held (empty) inception that no key of its held log
// signed may be its controller's, unknown until the registration names it: it was neither held nor charged, so
// junk ones cost a signature check each, again every sync round (M2), and a controller's real one that came first
// was lost until the next round (L2). And the held events were one pool for all peers: one peer's valid logs of
// its own DIDs could fill it, so an honest agent's rotation found no room (L1).
import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'

const checks = vi.hoisted(() => ({ n: 0 }))
vi.mock('../../../node/core/keys.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../../node/core/keys.js')>()
  return {
    ...m,
    verifySignature: (...args: Parameters<typeof m.verifySignature>) => {
      checks.n++
      return m.verifySignature(...args)
    },
  }
})

import {
  applyKeyEvent,
  envelopeId,
  toB64,
  createRevocation,
  generateKeyPair,
  type Envelope,
  type KeyPair,
} from '../../../node/core/index.js'
import type { AdmissionLimits } from '../../../node/services/sync-admission.js'
import { kitAgent, type KitAgent, type KitNode } from '../../helpers/service-kit.js'
import { heldPoolKit, rotatedAgent, type HeldPoolKit } from './held-pool-kit.js'

let n: KitNode
afterEach(() => n.close())

function setup(limits?: AdmissionLimits): HeldPoolKit {
  const kit = heldPoolKit(limits)
  n = kit.n
  return kit
}

/** A revocation of `a`'s DID that chains from its inception, signed by `signer` (the node, its controller, or junk). */
function revocationOf(a: KitAgent, signer: KeyPair): Envelope {
  return createRevocation(applyKeyEvent(undefined, a.icp), signer, 'compromised', n.clock.ms)
}

describe('revocations of held inceptions that no held key signed', () => {
  it('are checked once per DID, not again every round, and charged to their sender once the registration comes', async () => {
    const { store, apply, forgedOf } = setup()
    const agents = Array.from({ length: 8 }, () => kitAgent(n.random, n.clock.ms, { controller: n.did, peerId: 'h' }))
    await apply(
      'rogue',
      agents.map((a) => a.icp),
    )
    const junk = agents.flatMap((a) => Array.from({ length: 8 }, () => revocationOf(a, generateKeyPair(randomBytes))))
    const perRound: number[] = []
    for (let round = 0; round < 4; round++) {
      checks.n = 0
      await apply('rogue', junk)
      perRound.push(checks.n)
    }
    expect(perRound).toEqual([8, 0, 0, 0]) // the first of each DID, held; before: 64 checks every round
    expect(forgedOf('rogue')).toBe(0) // perhaps the controller's: nothing proves them forged yet

    const honest = await apply(
      'honest',
      agents.map((a) => a.reg),
    )
    expect([honest.accepted, honest.forged, forgedOf('honest')]).toEqual([16, 0, 0])
    expect(forgedOf('rogue')).toBe(8) // the held one of each DID, checked under its controller's key
    for (const a of agents) expect(store.keyEvents.state(a.did)?.revoked).toBeNull()
  })

  it("revoke the DID when it is its controller's and came before the registration", async () => {
    const { store, apply, forgedOf } = setup()
    const a = kitAgent(n.random, n.clock.ms, { controller: n.did, peerId: 'h' })
    await apply('gossip', [a.icp])
    await apply('gossip', [revocationOf(a, n.key)]) // the controller's, checkable only once its registration names it
    const honest = await apply('honest', [a.reg])
    expect(store.agents.get(a.did)).toBeDefined()
    expect(store.keyEvents.state(a.did)?.revoked).toMatchObject({ reason: 'compromised' })
    expect([honest.rejected, forgedOf('gossip'), forgedOf('honest')]).toEqual([0, 0, 0])
  })

  // Review 127 F1: the id does not cover the signature, so a copy of the controller's revocation with a junk
  // signature, sent first, takes the one held place. The real one then waits for the sync round after the
  // registration (decision 0087's known limit), and is not lost: no refusal of the copy keeps it out.
  it("held as a junk-signed copy delay the controller's real one by a sync round, no more", async () => {
    const kit = setup()
    const a = kitAgent(n.random, n.clock.ms, { controller: n.did, peerId: 'h' })
    await kit.apply('rogue', [a.icp])
    const real = createRevocation(applyKeyEvent(undefined, a.icp), n.key, 'compromised', n.clock.ms)
    const junk = { ...real, sig: toB64(randomBytes(64)) } as Envelope
    expect(envelopeId(junk)).toBe(envelopeId(real)) // the id does not cover the signature
    await kit.apply('rogue', [junk])
    await kit.apply('honest', [real]) // not the held one: left to sync
    await kit.apply('honest', [a.reg]) // releases the junk copy, charged to the rogue
    expect([kit.forgedOf('rogue'), kit.forgedOf('honest')]).toEqual([1, 0])
    expect(kit.store.keyEvents.state(a.did)?.revoked).toBeNull()
    await kit.apply('honest', [a.reg, real]) // the next round
    expect(kit.store.keyEvents.state(a.did)?.revoked).toMatchObject({ reason: 'compromised' })
    expect(kit.forgedOf('honest')).toBe(0)
  })
})

describe('the key events held with held inceptions', () => {
  it("are shared out by peer: one peer's valid logs leave room for another's agent", async () => {
    const { store, admission, apply, forgedOf } = setup({
      maxHeld: 4096,
      maxHeldPerPeer: 256,
      maxEvents: 8,
      maxEventsPerPeer: 4,
    })
    const own = Array.from({ length: 2 }, () => rotatedAgent(n, 4)) // the rogue's own DIDs, validly rotated
    await apply(
      'rogue',
      own.flatMap((a) => a.log),
    )

    const agent = rotatedAgent(n, 2)
    await apply('gossip', agent.log) // an honest agent's rotations, gossiped before its registration
    await apply('gossip', [agent.reg])
    expect(store.keyEvents.state(agent.did)?.seq).toBe(2)
    expect(store.agents.get(agent.did)).toBeDefined() // before: the rogue's logs took all 8, the agent's waited
    expect(forgedOf('gossip')).toBe(0)
    expect([admission.eventsFor('rogue'), admission.events()]).toEqual([4, 4]) // the rogue's, still held
  })

  // Review 127 F4: the events counted in the share of the DID's holder, whoever delivered its inception first
  it("count in their sender's share, not in that of a rogue that delivered the inception first", async () => {
    const kit = setup({ maxHeld: 4096, maxHeldPerPeer: 256, maxEvents: 8, maxEventsPerPeer: 4 })
    const own = Array.from({ length: 2 }, () => rotatedAgent(n, 4)) // the rogue's own DIDs fill its share
    await kit.apply(
      'rogue',
      own.flatMap((a) => a.log),
    )
    const agent = rotatedAgent(n, 2)
    await kit.apply('rogue', [agent.log[0]!]) // the agent's public inception, served by the rogue first
    await kit.apply('gossip', agent.log) // the agent's rotations, gossiped before its registration
    expect([kit.admission.eventsFor('rogue'), kit.admission.eventsFor('gossip')]).toEqual([4, 2])
    await kit.apply('gossip', [agent.reg])
    expect(kit.store.keyEvents.state(agent.did)?.seq).toBe(2)
    expect(kit.store.agents.get(agent.did)).toBeDefined() // before: the registration waited for a later sync
    expect([kit.admission.eventsFor('gossip'), kit.admission.peers()]).toEqual([0, 1]) // the rogue's held DIDs
  })
})
