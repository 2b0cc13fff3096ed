/**
 * Attack review 112, F1 (decision 0080; docs/protocol.md §9, "Capability discovery"): every meshsig node is a
 * kad-DHT server, and kad-dht stores one provider record per (key, sender) for any key an `ADD_PROVIDER` names,
 * and any `/pk/` record a `PUT_VALUE` carries whose key matches its value. meshsig passed no datastore, so one
 * connected peer could leave records in the node's memory without bound (the `/pk/` ones until a restart).
 * Now the datastore keeps at most `PROVIDER_RECORDS_PER_PEER` provider records per provider PeerId, and the
 * `pk` validator refuses every `PUT_VALUE`.
 */
import { randomBytes } from 'node:crypto'
import { generateKeyPair as libp2pKeyPair, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { Libp2pRecord } from '@libp2p/record'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MeshNode } from '../../node/mesh-node.js'
import type { MeshP2P } from '../../node/p2p/index.js'
import { PROVIDER_RECORDS_PER_PEER } from '../../node/p2p/provider-store.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { dhtMessage, dhtOf, dhtRequest, rogueDht } from './dht-rogue.js'
import { connectedRogue } from './flood-rogue.js'

let a: MeshNode
let rogue: MeshP2P

/** Entries under `prefix` in the node's libp2p datastore. */
async function entries(node: MeshNode, prefix: string): Promise<number> {
  let n = 0
  for await (const _ of dhtOf(node).providers.datastore.query({ prefix })) n++
  return n
}

/** Send `count` DHT messages made by `make`, 10 at a time. */
async function flood(count: number, make: () => Promise<void>): Promise<void> {
  for (let i = 0; i < count; i += 10) await Promise.all(Array.from({ length: 10 }, make))
}

beforeAll(async () => {
  a = await startNode()
  rogue = await connectedRogue(a, 'dht-flood')
}, 60_000)

afterAll(async () => {
  await rogue?.stop()
  await stopAll([a])
})

describe('DHT records a peer pushes', () => {
  it('one peer leaves at most PROVIDER_RECORDS_PER_PEER provider records for junk keys', async () => {
    const r = rogueDht(rogue, a)
    const before = await entries(a, '/dht/provider')
    const sent = 4 * PROVIDER_RECORDS_PER_PEER
    await flood(sent, async () => {
      const cid = CID.createV1(raw.code, await sha256.digest(randomBytes(32)))
      await dhtMessage(r, cid.multihash.bytes)
    })
    // the last ones sent are stored: the bound evicts the oldest, it does not refuse the newest
    await waitFor(async () => (await entries(a, '/dht/provider')) - before >= PROVIDER_RECORDS_PER_PEER, {
      timeout: 15_000,
    })
    expect((await entries(a, '/dht/provider')) - before).toBe(PROVIDER_RECORDS_PER_PEER)
  }, 120_000)

  it('no PUT_VALUE is stored, not even a valid /pk/ record', async () => {
    const r = rogueDht(rogue, a)
    const before = await entries(a, '/dht/record')
    let refused = 0
    await flood(200, async () => {
      const pub = (await libp2pKeyPair('Ed25519')).publicKey
      const key = new Uint8Array([...new TextEncoder().encode('/pk/'), ...pub.toMultihash().bytes])
      const record = new Libp2pRecord(key, publicKeyToProtobuf(pub), new Date())
      const msg = { type: 'PUT_VALUE', key, record: record.serialize(), closer: [], providers: [] }
      await dhtRequest(r, msg).catch(() => refused++)
    })
    expect(await entries(a, '/dht/record')).toBe(before)
    expect(refused).toBe(200)
  }, 120_000)
})
