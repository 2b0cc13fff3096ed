/**
 * Review 117, F2 (decision 0080): every ADD_PROVIDER merges the multiaddrs it names into the sender's
 * peer-store record, which only dedupes; the connection gater's filterMultiaddrForPeer (the peer store's
 * addressFilter) keeps at most ADDRESSES_PER_PEER of them (node/p2p/address-cap.ts).
 */
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PeerId } from '@libp2p/interface'
import type { MeshNode } from '../../node/mesh-node.js'
import type { MeshP2P } from '../../node/p2p/index.js'
import { ADDRESSES_PER_PEER } from '../../node/p2p/address-cap.js'
import { capabilityCid } from '../../node/p2p/capability.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { rogueDht, type RogueDht } from './dht-rogue.js'
import { connectedRogue } from './flood-rogue.js'

let a: MeshNode
let rogue: MeshP2P

/** Send one ADD_PROVIDER of `key` (CID bytes) naming the rogue with `addrs`. */
async function addProvider(r: RogueDht, key: Uint8Array, addrs: Uint8Array[]): Promise<void> {
  const msg = {
    type: 'ADD_PROVIDER',
    key,
    closer: [],
    providers: [{ id: r.libp2p.peerId.toMultihash().bytes, multiaddrs: addrs }],
  }
  for await (const _ of r.libp2p.services.dht.network.sendMessage(r.victim, msg, {})) void _
}

function peerStoreOf(node: MeshNode): { get(id: PeerId): Promise<{ addresses: unknown[] }> } {
  const parts = (node as unknown as { parts: { state: { p2p: unknown } } }).parts
  return (parts.state.p2p as { libp2p: { peerStore: { get(id: PeerId): Promise<{ addresses: unknown[] }> } } }).libp2p
    .peerStore
}

beforeAll(async () => {
  a = await startNode()
  rogue = await connectedRogue(a, 'dht-peer-addrs')
}, 60_000)

afterAll(async () => {
  await rogue?.stop()
  await stopAll([a])
})

describe('peer-store addresses one peer leaves', () => {
  it('the multiaddrs ADD_PROVIDER merges into the sender peer record are bounded', async () => {
    const r = rogueDht(rogue, a)
    const key = capabilityCid('translate').bytes
    const perMessage = 1000
    const messages = 4
    for (let m = 0; m < messages; m++) {
      const addrs = Array.from(
        { length: perMessage },
        (_, i) => multiaddr(`/ip4/10.${m}.${(i >> 8) & 255}.${i & 255}/tcp/${4000 + i}`).bytes,
      )
      await addProvider(r, key, addrs)
    }
    await new Promise((res) => setTimeout(res, 2000))
    const kept = (await peerStoreOf(a).get(r.libp2p.peerId)).addresses.length
    console.log(`peer addresses: ${perMessage * messages} addresses sent, ${kept} kept in the rogue's peer record`)
    expect(kept).toBeLessThanOrEqual(ADDRESSES_PER_PEER)
  }, 180_000)
})
