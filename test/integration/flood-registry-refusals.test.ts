/**
 * Refusals anyone can cause again and again for a DID a node knows, gossiped
 * by a real rogue libp2p peer (attack review of decision 0045). Each distinct
 * envelope had its own audit entry, without bound; now each kind is audited
 * once per DID, and nobody is charged (docs/protocol.md §7, "Renewals"):
 *
 * - registrations signed by a key the DID retired, each dated later than the
 *   held one (its old key's holder, or a thief of it, signs any number;
 *   refused `ROTATED_KEY`, so the renewal budget never counts them);
 * - rotations that skip a `seq`, signed by no key of the DID (refused
 *   `KEL_INVALID` before any signature check; gossip Ignores them).
 *
 * And rotations of DIDs the node has no log of (`UNKNOWN_SIGNER`, refused
 * before any signature check) are not audited at all when a peer brings
 * them: anyone mints them, and the log may simply not have arrived yet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  applyKeyEvent,
  createInception,
  createRegistration,
  createRotation,
  encodeEnvelope,
  generateKeyPair,
  type KeyPair,
} from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import type { MeshP2P } from '../../node/p2p/index.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { gossipMarker, rogueP2P } from './flood-rogue.js'

const REGISTRY = 'meshsig/v1/registry'
const FLOOD = 30
let a: MeshNode
let rogue: MeshP2P
const k0: KeyPair = generateKeyPair()
const k1: KeyPair = generateKeyPair()
const k2: KeyPair = generateKeyPair()
let did = ''
let firstTs = 0

/** Audit entries of `a` refusing something in the rogue DID's name with `code`. */
function refusals(code: string): number {
  const rows = a.store.auditEntries.entries(0, a.store.auditEntries.count())
  return rows.filter((r) => {
    const e = JSON.parse(r.entry) as { subject?: string | null; kind?: string; code?: string }
    return e.subject === did && e.kind === 'envelope.rejected' && e.code === code
  }).length
}

function registration(name: string, ts: number, key: KeyPair): Uint8Array {
  const init = { did, name, capabilities: [], controller: did, peerId: rogue.peerId, ts }
  return encodeEnvelope(createRegistration(init, key))
}

/** Gossip a message from the DID (current key) and wait until `a` took it: `a` handled all gossiped before. */
function marker(body: string): Promise<void> {
  return gossipMarker(rogue, a, k1, did, body)
}

beforeAll(async () => {
  a = await startNode({})
  rogue = await rogueP2P('registry-refusals')
  await rogue.start()
  await rogue.dial(a.info().multiaddrs[0]!)
  await waitFor(() => rogue.subscribers(REGISTRY).includes(a.mesh.peerId), { timeout: 15_000 })
  const icp = createInception(k0, Date.now(), k1)
  did = icp.did
  firstTs = Date.now()
  await rogue.publish(REGISTRY, registration('first', firstTs, k0))
  await rogue.publish(REGISTRY, encodeEnvelope(icp))
  await waitFor(() => a.store.agents.get(did) && a.store.keyEvents.state(did), { timeout: 15_000 })
  // one honest-looking rotation to k1 (the DID's holder may do this; so may its owner after a leak of k0)
  const rot = createRotation(a.store.keyEvents.state(did)!, k0, k1, Date.now(), k2)
  await rogue.publish(REGISTRY, encodeEnvelope(rot))
  await waitFor(() => a.store.keyEvents.state(did)?.seq === 1, { timeout: 15_000 })
}, 60_000)

afterAll(async () => {
  await rogue?.stop()
  await stopAll([a])
})

describe('refusals a peer can repeat for a known DID', () => {
  it('registrations under the retired key, each dated later: audited once', async () => {
    const before = refusals('ROTATED_KEY')
    for (let i = 1; i <= FLOOD; i++) await rogue.publish(REGISTRY, registration(`old key ${i}`, firstTs + i, k0))
    await marker('after the rotated-key flood')
    expect(refusals('ROTATED_KEY') - before).toBe(1) // each of the 30 was audited before
    expect(a.store.agents.get(did)?.name).toBe('first')
  }, 60_000)

  it('junk rotations that skip a seq (no key needed): audited once, nobody charged', async () => {
    const before = refusals('KEL_INVALID')
    const state = a.store.keyEvents.state(did)!
    for (let i = 1; i <= FLOOD; i++) {
      // seq skips one; signed by fresh keys, none of the DID's: a forgery no signature check ever sees
      const junk = createRotation({ ...state, seq: state.seq + 1 }, generateKeyPair(), generateKeyPair(), Date.now())
      await rogue.publish(REGISTRY, encodeEnvelope(junk))
    }
    await marker('after the junk rotations')
    expect(a.store.misc.peerFaults().find((f) => f.peer === rogue.peerId)?.forged ?? 0).toBe(0) // nobody charged
    expect(refusals('KEL_INVALID') - before).toBe(1) // each of the 30 was audited before
    expect(a.store.keyEvents.state(did)?.seq).toBe(1)
  }, 60_000)

  it('rotations of DIDs the node never saw (no key needed): not audited one by one, nobody charged', async () => {
    const unknown = (): number => {
      const rows = a.store.auditEntries.entries(0, a.store.auditEntries.count())
      return rows.filter((r) => (JSON.parse(r.entry) as { code?: string }).code === 'UNKNOWN_SIGNER').length
    }
    const before = unknown()
    for (let i = 0; i < FLOOD; i++) {
      const k = generateKeyPair()
      const n = generateKeyPair()
      const rot = createRotation(applyKeyEvent(undefined, createInception(k, Date.now(), n)), k, n, Date.now())
      await rogue.publish(REGISTRY, encodeEnvelope(rot))
    }
    await marker('after the unknown rotations')
    expect(unknown() - before).toBe(0) // each of the 30 was audited before
    expect(a.store.misc.peerFaults().find((f) => f.peer === rogue.peerId)?.forged ?? 0).toBe(0)
  }, 60_000)
})
