/**
 * Review H7 F1: a rotation answered before its gossip lets its caller act on
 * the new key at once: a direct message signed by it goes out by the delivery
 * protocol, which does not wait for gossip, and can reach the recipient's
 * node before the rotation. That node answers SIGNATURE_INVALID, a final
 * refusal: the message is lost and the sender's node counted as a forger. So
 * a rotation is answered once its gossip is out (decision 0093), and the
 * message sent next is delivered. Gossip is held here to stand for a slow
 * publish.
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

/** Hold gossip publishes until the returned release; `order` gets "published" as each completes. */
function holdGossip(n: MeshNode, order: string[]): () => void {
  const gossip = (n as unknown as { parts: NodeParts }).parts.gossip
  const original = gossip.publish.bind(gossip)
  let open: () => void = () => {}
  const gate = new Promise<void>((resolve) => (open = resolve))
  gossip.publish = async (envelopes) => {
    await gate
    await original(envelopes)
    order.push('published')
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
    const order: string[] = []
    const release = holdGossip(a, order)
    const rotating = a.rotateAgent({ did: alice, authority: OPERATOR }).then((r) => {
      order.push('answered')
      return r
    })
    release()
    const rotation = await rotating
    expect(rotation.keySeq).toBe(1)
    expect(order).toEqual(['published', 'answered']) // the custodied answer waited for its gossip
    const sent = await a.sendMessage({ authority: OPERATOR, fromDid: alice, toDid: bob, message: 'new key' })
    const settled = await waitFor(() => {
      const d = a.delivery(sent.id)
      return d !== undefined && d.state !== 'pending' ? d : undefined
    })
    const charged = b.store.misc.peerFaults().find((f) => f.peer === a.info().peerId)?.forged ?? 0
    expect({ state: settled.state, code: (settled as { code?: string | null }).code ?? null, charged }).toEqual({
      state: 'delivered',
      code: null,
      charged: 0,
    })
  }, 60_000)
})
