/**
 * H7 review PoC (c6f7b44): a rotation of any DID but the node's own is now
 * answered before its gossip is published. Its caller may act on the new key
 * at once: a direct message signed by it goes out by the delivery protocol,
 * which does not wait for gossip, and reaches the recipient's node before the
 * rotation does. That node checks the signature against the key it knows,
 * answers SIGNATURE_INVALID, a final refusal (delivery-outcomes.ts
 * isFinalRefusal): the message is lost for good, and the recipient node
 * counts the sender's node as a forger (ingest.ts recordRejection,
 * peerFault forged). Before c6f7b44 the answer waited for the publish, so
 * the new key could not be used before the rotation was handed to the mesh.
 * Gossip is held here (as c6f7b44's own test does) to stand for a publish
 * that is slow or waiting in the gossip outbox. Fails now.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { MeshNode } from '../../node/mesh-node.js'
import type { NodeParts } from '../../node/node-parts.js'
import { OPERATOR } from '../../node/services/authority.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'

const nodes: MeshNode[] = []
afterEach(async () => {
  await stopAll(nodes.splice(0))
})

function holdGossip(n: MeshNode): () => void {
  const gossip = (n as unknown as { parts: NodeParts }).parts.gossip
  const original = gossip.publish.bind(gossip)
  let open: () => void = () => {}
  const gate = new Promise<void>((resolve) => (open = resolve))
  gossip.publish = async (envelopes) => {
    await gate
    return original(envelopes)
  }
  return open
}

describe('a message under the new key of a rotation answered before its gossip', () => {
  it('is delivered, not refused for good as a forgery', async () => {
    const a = await startNode({ transports: 'tcp' })
    nodes.push(a)
    const b = await startNode({ transports: 'tcp', peers: [a.info().multiaddrs[0]!] })
    nodes.push(b)
    const alice = (await a.registerAgent('alice')).identity.did
    const bob = (await b.registerAgent('bob')).identity.did
    await waitFor(() => a.store.agents.get(bob), { timeout: 20_000 })
    await waitFor(() => b.store.agents.get(alice), { timeout: 20_000 })
    const release = holdGossip(a)
    try {
      const rotation = await a.rotateAgent({ did: alice, authority: OPERATOR })
      expect(rotation.keySeq).toBe(1) // answered: the caller now uses the new key
      const sent = await a.sendMessage({ authority: OPERATOR, fromDid: alice, toDid: bob, message: 'new key' })
      const settled = await waitFor(() => {
        const d = a.delivery(sent.id)
        return d !== undefined && d.state !== 'pending' ? d : undefined
      })
      const charged = b.store.misc.peerFaults().find((f) => f.peer === a.info().peerId)?.forged ?? 0
      // now: { state: 'refused', code: 'SIGNATURE_INVALID' }, and b counts a forgery against a
      expect({ state: settled.state, code: (settled as { code?: string | null }).code ?? null, charged }).toEqual({
        state: 'delivered',
        code: null,
        charged: 0,
      })
    } finally {
      release()
    }
  }, 60_000)
})
