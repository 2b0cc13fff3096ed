/**
 * A real rogue libp2p peer gossips forged registrations (fresh DIDs, signatures
 * by other keys) on meshsig/v1/registry: the victim cannot check them without
 * key logs it lacks, so each waits for a registry round with the peer
 * (docs/protocol.md §9, "A registration whose key log is missing"). While the
 * rogue holds that round open, no more than MAX_AWAITING_LOG_PER_PEER of them
 * wait; the rest are dropped unchecked. When the round ends, only those that
 * waited are refused and audited, so the audit log does not grow with the flood.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createInception,
  createRegistration,
  encodeEnvelope,
  envelopeId,
  generateKeyPair,
} from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { createMeshP2P, type MeshP2P, type SyncRequest } from '../../node/p2p/index.js'
import { MAX_AWAITING_LOG_PER_PEER } from '../../node/services/mesh-gossip.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { emptyRegistry } from './flood-rogue.js'

const TOPIC = 'meshsig/v1/registry'
let a: MeshNode
let rogue: MeshP2P
let release: () => void = () => undefined
const gate = new Promise<void>((resolve) => (release = resolve))

/** The rogue's registry answers: empty, once the test opens the gate. */
async function* heldOpen(request: SyncRequest): AsyncGenerator<Uint8Array> {
  await gate
  yield* emptyRegistry(request)
}

beforeAll(async () => {
  a = await startNode()
  rogue = await createMeshP2P({
    seed: generateKeyPair().seed,
    transports: 'memory',
    listen: [`/memory/flood-reg-${process.pid}-${Date.now()}`],
    validate: () => 'accept',
    onMessage: () => undefined,
    syncProvider: heldOpen,
    heartbeatInterval: 200,
  })
  await rogue.start()
  await rogue.dial(a.info().multiaddrs[0]!)
  await waitFor(() => rogue.subscribers(TOPIC).includes(a.mesh.peerId), { timeout: 15_000 })
}, 60_000)

afterAll(async () => {
  release()
  await rogue?.stop()
  await stopAll([a])
})

describe('forged registrations waiting for a key log', () => {
  it('at most MAX_AWAITING_LOG_PER_PEER of a flood are checked and audited; none is stored', async () => {
    const forged = Array.from({ length: 200 }, (_, i) => {
      const did = createInception(generateKeyPair(), 1).did
      const init = { did, name: `forged ${i}`, capabilities: [], controller: did, peerId: rogue.peerId, ts: 1 }
      return createRegistration(init, generateKeyPair())
    })
    for (const reg of forged) await rogue.publish(TOPIC, encodeEnvelope(reg))
    // then a registration of the rogue's own: once the victim stored it, it has judged every forged one before it
    const key = generateKeyPair()
    const icp = createInception(key, Date.now())
    const init = { did: icp.did, name: 'sentinel', capabilities: [], controller: icp.did, peerId: rogue.peerId }
    await rogue.publish(TOPIC, encodeEnvelope(icp))
    await rogue.publish(TOPIC, encodeEnvelope(createRegistration({ ...init, ts: Date.now() }, key)))
    await waitFor(() => a.agents.record(icp.did) !== undefined, { timeout: 15_000 })

    const ids = new Set(forged.map((r) => envelopeId(r)))
    const audited = (): number =>
      a.store.auditEntries
        .entries(0, a.store.auditEntries.count())
        .map((r) => JSON.parse(r.entry) as { envelopeId?: string; code?: string })
        .filter((e) => e.envelopeId !== undefined && ids.has(e.envelopeId)).length
    expect(audited()).toBe(0)
    release() // the round ends: those that waited are checked again, refused and audited
    await waitFor(() => audited() >= MAX_AWAITING_LOG_PER_PEER, { timeout: 30_000 })
    expect(audited()).toBe(MAX_AWAITING_LOG_PER_PEER)
    for (const reg of forged) expect(a.agents.record(reg.did)).toBeUndefined()
  }, 60_000)
})
