/**
 * The delivery budget's table of peers (node/services/delivery-inbound.ts,
 * window-budgets.ts; attack review 91, F5; decision 0062). It tracks at
 * most `limits.relay.trackedKeys` peers and charges a delivery before it is
 * decoded. Before, once junk from that many fresh peer ids had filled it,
 * every other peer (honest ones too) got `RATE_LIMITED` until the window
 * ended. Now a new peer pushes out the oldest, and a peer past its own
 * budget is still refused before its request is decoded. Shown with
 * trackedKeys = 3 (10,000 by default).
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import {
  createInception,
  createMessage,
  createRegistration,
  encodeEnvelope,
  generateKeyPair,
} from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import type { MeshP2P } from '../../node/p2p/index.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { rogueP2P } from './flood-rogue.js'

let a: MeshNode
const peers: MeshP2P[] = []

beforeAll(async () => {
  a = await startNode({ init: { limits: { relay: { trackedKeys: 3, perPeerMessages: 2 } } } })
  for (let i = 0; i < 4; i++) {
    const p = await rogueP2P(`deliver-tracked-${i}`)
    await p.start()
    await p.dial(a.info().multiaddrs[0]!)
    peers.push(p)
  }
  await waitFor(() => peers.every((p) => p.subscribers('meshsig/v1/registry').includes(a.mesh.peerId)), {
    timeout: 15_000,
  })
}, 60_000)

afterAll(async () => {
  for (const p of peers) await p.stop()
  await stopAll([a])
})

/** Deliver `data` from `peer`: the answer as text. */
async function deliver(peer: MeshP2P, data: Uint8Array): Promise<string> {
  return Buffer.from(await peer.deliver(a.mesh.peerId, data)).toString()
}

it('junk from fresh peer ids does not lock a new peer out of delivery; a junk peer keeps its own budget', async () => {
  const inbox = (await a.registerAgent('inbox')).identity.did
  const [junk0, junk1, junk2, honest] = peers as [MeshP2P, MeshP2P, MeshP2P, MeshP2P]
  for (const rogue of [junk0, junk1, junk2]) expect(await deliver(rogue, new Uint8Array([0x7b]))).toContain('MALFORMED')
  // the fourth peer's sender, registered by gossip
  const key = generateKeyPair()
  const icp = createInception(key, Date.now())
  const reg = createRegistration(
    { did: icp.did, name: 'sender', capabilities: [], controller: icp.did, peerId: honest.peerId, ts: Date.now() },
    key,
  )
  for (const e of [icp, reg]) await honest.publish('meshsig/v1/registry', encodeEnvelope(e))
  await waitFor(() => a.store.agents.get(icp.did), { timeout: 15_000 })
  const nonce = crypto.getRandomValues(new Uint8Array(16))
  const msg = createMessage({ from: icp.did, to: inbox, body: 'hello', ts: Date.now(), nonce }, key)
  const answer = JSON.parse(await deliver(honest, encodeEnvelope(msg))) as { receipt?: unknown; refused?: unknown }
  expect(answer.refused).toBeUndefined()
  expect(answer.receipt).toBeDefined()
  // still tracked: its second delivery fits, its third is over perPeerMessages and refused undecoded
  expect(await deliver(junk2, new Uint8Array([0x7b]))).toContain('MALFORMED')
  expect(await deliver(junk2, new Uint8Array([0x7b]))).toContain('RATE_LIMITED')
}, 60_000)
