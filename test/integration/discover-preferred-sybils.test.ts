/**
 * Review 117, F3 (decision 0080): a registration is signed by its agent key only, so its `peerId` can name any
 * PeerId. `providersAsked` Sybil agents, each registered (icp + reg over gossip) naming its own free Sybil
 * PeerId, whose provider records of the type were stored before the honest provider's, are all "preferred".
 * The preferred take at most half of the providers asked, connected hosts first, so the honest host, connected,
 * is asked. The Sybils leave and answer nothing.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createInception, createRegistration, encodeEnvelope, generateKeyPair } from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { capabilityCid, type MeshP2P } from '../../node/p2p/index.js'
import { DEFAULT_LIMITS } from '../../node/limits.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { dhtMessage, dhtOf, rogueDht } from './dht-rogue.js'
import { rogueP2P } from './flood-rogue.js'

const TYPE = `translate-${randomBytes(3).toString('hex')}`
const TOPIC = 'meshsig/v1/registry'
const SYBILS = DEFAULT_LIMITS.discovery.providersAsked
let a: MeshNode
let b: MeshNode | undefined
let gossiper: MeshP2P

beforeAll(async () => {
  a = await startNode()
  gossiper = await rogueP2P('pref-gossip')
  await gossiper.start()
  await gossiper.dial(a.info().multiaddrs[0]!)
  await waitFor(() => gossiper.subscribers(TOPIC).includes(a.mesh.peerId), { timeout: 20_000 })
}, 120_000)

afterAll(async () => {
  await gossiper?.stop()
  await stopAll([a, b].filter((n) => n !== undefined))
})

/** One Sybil: a free PeerId that pushes one provider record of TYPE, and an agent whose registration names it. */
async function sybil(i: number): Promise<string> {
  const s = await rogueP2P(`pref-sybil-${i}`)
  await s.start()
  await s.dial(a.info().multiaddrs[0]!)
  await dhtMessage(rogueDht(s, a), capabilityCid(TYPE).multihash.bytes)
  await s.stop()
  const key = generateKeyPair()
  const icp = createInception(key, Date.now())
  const init = {
    did: icp.did,
    name: `sybil ${i}`,
    capabilities: [{ type: TYPE }],
    controller: icp.did,
    peerId: s.peerId,
  }
  await gossiper.publish(TOPIC, encodeEnvelope(icp))
  await gossiper.publish(TOPIC, encodeEnvelope(createRegistration({ ...init, ts: Date.now() }, key)))
  return icp.did
}

it('Sybil registrations naming Sybil PeerIds do not push an honest preferred host out of those asked', async () => {
  const dids: string[] = []
  for (let i = 0; i < SYBILS; i++) dids.push(await sybil(i))
  await waitFor(() => dids.every((d) => a.agents.record(d) !== undefined), { timeout: 30_000 })
  b = await startNode({ peers: [a.info().multiaddrs[0]!] })
  const honestPeer = b.info().peerId
  await waitFor(() => a.mesh.peers().some((p) => p.peerId === honestPeer), { timeout: 20_000 })
  const agent = (await b.registerAgent('honest-translator', [{ type: TYPE }])).identity.did
  await waitFor(() => a.store.agents.get(agent) !== undefined, { timeout: 20_000 })
  const cid = capabilityCid(TYPE)
  await waitFor(async () => (await dhtOf(a).providers.getProviders(cid)).some((p) => p.toString() === honestPeer), {
    timeout: 30_000,
  })
  const found = await a.discoverNetwork(TYPE, 0, 50)
  console.log(`preferred sybils: remote ${JSON.stringify(found.remote.map((m) => m.provider))}`)
  expect(found.remote.map((m) => m.record.did)).toContain(agent)
}, 240_000)
