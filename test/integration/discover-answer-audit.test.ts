/**
 * A network discovery's answers are bounded in what they write to the audit log (attack review 91 F4;
 * docs/protocol.md §9, decision 0053). The node takes each provider's answer (up to 100 registrations, from
 * up to 20 providers) through ingest as `sync`, whose refusals are audited one by one because sync has rounds
 * and budgets of its own; discovery has none. A rogue provider answering 100 forged registrations made 100
 * `envelope.rejected` entries at every discovery. Now a provider that answers a forgery is asked nothing more
 * in that call, and discovery refusals go under the node-wide budget of audited refusals.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createRegistration, didFromPublicKey, encodeEnvelope, generateKeyPair, utf8 } from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import type { MeshP2P } from '../../node/p2p/index.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { rogueP2P } from './flood-rogue.js'

let a: MeshNode
let rogue: MeshP2P

/** A registration of a fresh DID hosted by `peerId`, signed by another key than the DID's: a forgery. */
function forgedRegistration(i: number, peerId: string): string {
  const victimKey = generateKeyPair()
  const wrongKey = generateKeyPair()
  const reg = createRegistration(
    {
      did: didFromPublicKey(victimKey.publicKey),
      name: `forged-${i}`,
      capabilities: [{ type: 'pay' }],
      controller: didFromPublicKey(wrongKey.publicKey),
      peerId,
      ts: Date.now(),
    },
    wrongKey,
  )
  return Buffer.from(encodeEnvelope(reg)).toString('utf8')
}

beforeAll(async () => {
  a = await startNode()
  rogue = await rogueP2P('discover-junk')
  const forged = Array.from({ length: 100 }, (_, i) => forgedRegistration(i, rogue.peerId))
  await rogue.registerProtocol('/meshsig/discover/1.0.0', async () => utf8(JSON.stringify(forged)))
  await rogue.start()
  await rogue.dial(a.info().multiaddrs[0]!)
  await waitFor(() => a.mesh.peers().some((p) => p.peerId === rogue.peerId), { timeout: 15_000 })
}, 60_000)

afterAll(async () => {
  await rogue?.stop()
  await stopAll([a])
})

it("a rogue provider's forged answer costs the audit log one entry a discovery, not one per forgery", async () => {
  // the node's own step that asks one provider (the DHT lookup before it is not what is tested)
  const discovery = (a as unknown as { parts: { discovery: { ask(p: string, q: unknown): Promise<unknown[]> } } }).parts
    .discovery
  const before = a.store.auditEntries.count()
  for (let round = 0; round < 5; round++) {
    expect(await discovery.ask(rogue.peerId, { capability: 'pay', minConfidence: 0 })).toEqual([])
  }
  expect(a.store.auditEntries.count() - before).toBeLessThanOrEqual(5)
  expect(a.listAgents({ capability: 'pay' })).toEqual([])
}, 60_000)
