/**
 * Attack review 112, F4 (decision 0080; docs/protocol.md §9, "Capability discovery"): the remote part of a
 * network discovery was cut at `limit` first come, so the first provider's answer filled it. One rogue that
 * answered with 50 free Sybil registrations of a type hid an honest provider's agent from
 * `POST /discover/network` (default limit 50) — the crowd-out decision 0060 removed from the serving side.
 * Now each provider counts only for its own agents and the remote part takes one from each provider in turn.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createInception, createRegistration, encodeEnvelope, generateKeyPair, utf8 } from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { capabilityCid, DISCOVER_PROTOCOL, type MeshP2P } from '../../node/p2p/index.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { dhtMessage, dhtOf, rogueDht } from './dht-rogue.js'
import { rogueP2P } from './flood-rogue.js'

const TYPE = `review-${randomBytes(3).toString('hex')}`
let a: MeshNode
let b: MeshNode | undefined
let rogue: MeshP2P

beforeAll(async () => {
  a = await startNode()
  rogue = await rogueP2P('crowd-out')
  await rogue.start()
  await rogue.dial(a.info().multiaddrs[0]!)
  await waitFor(() => a.mesh.peers().some((p) => p.peerId === rogue.peerId), { timeout: 15_000 })
}, 60_000)

afterAll(async () => {
  await rogue?.stop()
  await stopAll([a, b].filter((n) => n !== undefined))
})

/** `count` Sybil agents of TYPE hosted by the rogue, their inceptions known to `a`: their registrations. */
async function sybilRegistrations(count: number): Promise<string[]> {
  const regs: string[] = []
  for (let i = 0; i < count; i++) {
    const key = generateKeyPair()
    const icp = createInception(key, Date.now(), generateKeyPair())
    expect((await a.submitEnvelope(icp)).ok).toBe(true)
    const fields = { did: icp.did, name: `sybil-${i}`, capabilities: [{ type: TYPE }], controller: icp.did }
    const reg = createRegistration({ ...fields, peerId: rogue.peerId, ts: Date.now() }, key)
    regs.push(Buffer.from(encodeEnvelope(reg)).toString('utf8'))
  }
  return regs
}

it("an honest provider's agent is among the remote matches despite a rogue's 50 Sybils", async () => {
  const regs = await sybilRegistrations(50)
  await rogue.registerProtocol(DISCOVER_PROTOCOL, async () => utf8(JSON.stringify(regs)))
  await dhtMessage(rogueDht(rogue, a), capabilityCid(TYPE).multihash.bytes) // the rogue's record comes first
  b = await startNode({ peers: [a.info().multiaddrs[0]!] })
  const honestPeer = b.info().peerId
  await waitFor(() => a.mesh.peers().some((p) => p.peerId === honestPeer), { timeout: 20_000 })
  const honest = (await b.registerAgent('honest-reviewer', [{ type: TYPE }])).identity.did
  const cid = capabilityCid(TYPE)
  await waitFor(async () => (await dhtOf(a).providers.getProviders(cid)).some((p) => p.toString() === honestPeer), {
    timeout: 30_000,
  })
  await waitFor(() => a.store.agents.get(honest) !== undefined, { timeout: 20_000 })
  const found = await a.discoverNetwork(TYPE, 0, 50)
  expect(found.remote.map((m) => m.record.did)).toContain(honest)
  expect(found.remote.filter((m) => m.provider === rogue.peerId).length).toBeLessThan(50)
}, 180_000)
