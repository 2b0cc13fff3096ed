/**
 * Attack review 112, F3 (decision 0080; docs/protocol.md §9, "Capability discovery"): kad-dht's findProviders
 * answers from the local store alone, in insertion order, once it holds k (20) providers, and discovery asked
 * the first 20 it got. 20 free PeerIds that each pushed one `ADD_PROVIDER` of a type and left hid every honest
 * provider that announced the type later. Now discovery considers every stored provider record of the type,
 * asks first the hosts of stored registrations holding it, and the others at random.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { MeshNode } from '../../node/mesh-node.js'
import { capabilityCid } from '../../node/p2p/index.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { dhtMessage, dhtOf, rogueDht } from './dht-rogue.js'
import { rogueP2P } from './flood-rogue.js'

const TYPE = `summarise-${randomBytes(3).toString('hex')}`
const SYBILS = 20
let a: MeshNode
let b: MeshNode | undefined

beforeAll(async () => {
  a = await startNode()
}, 60_000)

afterAll(async () => {
  await stopAll([a, b].filter((n) => n !== undefined))
})

/** One Sybil: connects, pushes one provider record of `type`, leaves. */
async function sybilProvides(i: number): Promise<void> {
  const s = await rogueP2P(`sybil-${i}`)
  await s.start()
  await s.dial(a.info().multiaddrs[0]!)
  await dhtMessage(rogueDht(s, a), capabilityCid(TYPE).multihash.bytes)
  await s.stop()
}

it('an honest node that provides a type after 20 Sybil provider records is still found', async () => {
  for (let i = 0; i < SYBILS; i++) await sybilProvides(i)
  const cid = capabilityCid(TYPE)
  await waitFor(async () => (await dhtOf(a).providers.getProviders(cid)).length >= SYBILS, { timeout: 15_000 })
  b = await startNode({ peers: [a.info().multiaddrs[0]!] })
  const honestPeer = b.info().peerId
  await waitFor(() => a.mesh.peers().some((p) => p.peerId === honestPeer), { timeout: 20_000 })
  const agent = (await b.registerAgent('honest-summariser', [{ type: TYPE }])).identity.did
  await waitFor(() => a.store.agents.get(agent) !== undefined, { timeout: 20_000 })
  await waitFor(async () => (await dhtOf(a).providers.getProviders(cid)).some((p) => p.toString() === honestPeer), {
    timeout: 30_000,
  })
  const providers = (await dhtOf(a).providers.getProviders(cid)).map(String)
  expect(providers.indexOf(honestPeer)).toBe(SYBILS) // after every Sybil: kad-dht's first k are all Sybils
  const found = await a.discoverNetwork(TYPE, 0, 50)
  expect(found.remote.map((m) => m.record.did)).toContain(agent)
}, 180_000)
