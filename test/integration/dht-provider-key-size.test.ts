/**
 * Review 117, F1 (decision 0080): the provider records one connected rogue peer can make a node keep are
 * bounded in bytes too, not only in number.
 * A provider record counted as one whatever the size of its key; ADD_PROVIDER takes any CID, and an
 * identity-multihash CID carries a digest of up to ~4 MiB (kad-dht's message limit), stored base32 in the key.
 */
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { identity } from 'multiformats/hashes/identity'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MeshNode } from '../../node/mesh-node.js'
import type { MeshP2P } from '../../node/p2p/index.js'
import { PROVIDER_RECORDS_PER_PEER } from '../../node/p2p/provider-store.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { dhtOf, rogueDht, type RogueDht } from './dht-rogue.js'
import { connectedRogue } from './flood-rogue.js'

let a: MeshNode
let rogue: MeshP2P

/** Total characters of the keys under `prefix` in the node's libp2p datastore. */
async function keyChars(node: MeshNode, prefix: string): Promise<number> {
  let n = 0
  for await (const e of dhtOf(node).providers.datastore.query({ prefix }) as AsyncIterable<{ key: unknown }>)
    n += String(e.key).length
  return n
}

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

beforeAll(async () => {
  a = await startNode()
  rogue = await connectedRogue(a, 'dht-uncounted')
}, 60_000)

afterAll(async () => {
  await rogue?.stop()
  await stopAll([a])
})

describe('DHT provider records one peer leaves, by bytes', () => {
  it('provider records with huge keys stay within a byte budget', async () => {
    const r = rogueDht(rogue, a)
    const own = [r.libp2p.getMultiaddrs()[0]!.bytes]
    const before = await keyChars(a, '/dht/provider')
    const sent = 12
    for (let i = 0; i < sent; i++) {
      const digest = new Uint8Array(256 * 1024).fill(i + 1)
      await addProvider(r, CID.createV1(raw.code, identity.digest(digest)).bytes, own)
    }
    await new Promise((res) => setTimeout(res, 2000))
    const grown = (await keyChars(a, '/dht/provider')) - before
    console.log(`provider key size: ${sent} records, key chars kept: ${grown}`)
    // a capability key is a 34-byte sha256 multihash (~55 base32 chars); 256 records of such keys < 64 KiB
    expect(grown).toBeLessThanOrEqual(PROVIDER_RECORDS_PER_PEER * 256)
  }, 180_000)
})
