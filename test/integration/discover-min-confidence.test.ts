/**
 * Attack review 112, F2 (decision 0080; docs/protocol.md §9, "Capability discovery"): the remote part of a
 * network discovery checked only that a returned agent holds the type, not `minConfidence`, while the local
 * part filters it in SQL. A provider answering with an agent at confidence 0.1 had it listed for 0.9.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createInception, createRegistration, encodeEnvelope, generateKeyPair, utf8 } from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { DISCOVER_PROTOCOL, type MeshP2P } from '../../node/p2p/index.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { connectedRogue } from './flood-rogue.js'

const TYPE = 'translate-weak'
let a: MeshNode
let rogue: MeshP2P
let answered = 0

beforeAll(async () => {
  a = await startNode()
  rogue = await connectedRogue(a, 'min-confidence')
}, 60_000)

afterAll(async () => {
  await rogue?.stop()
  await stopAll([a])
})

it('an agent holding the type at confidence 0.1 is no remote match for minConfidence 0.9', async () => {
  const key = generateKeyPair()
  const icp = createInception(key, Date.now(), generateKeyPair())
  const fields = { did: icp.did, name: 'weak-translator', capabilities: [{ type: TYPE, confidence: 0.1 }] }
  const reg = createRegistration({ ...fields, controller: icp.did, peerId: rogue.peerId, ts: Date.now() }, key)
  expect((await a.submitEnvelope(icp)).ok).toBe(true) // the inception is public mesh traffic
  await rogue.registerProtocol(DISCOVER_PROTOCOL, async () => {
    answered++
    return utf8(JSON.stringify([Buffer.from(encodeEnvelope(reg)).toString('utf8')]))
  })
  await rogue.provideCapability(TYPE)
  // at minConfidence 0 it is found: the provider is asked and its answer taken
  await waitFor(async () => (await a.discoverNetwork(TYPE, 0, 50)).remote.length === 1, { timeout: 30_000 })
  const askedBefore = answered
  const strict = await a.discoverNetwork(TYPE, 0.9, 50)
  expect(answered).toBeGreaterThan(askedBefore)
  expect(strict.remote.map((m) => m.record.did)).not.toContain(icp.did)
}, 90_000)
