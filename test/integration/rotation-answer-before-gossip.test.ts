/**
 * Attack review H2 F1: a seed-style rotation of an agent whose keys the node
 * does not keep hands over a key made here (`nextPrivateKey`) in its answer
 * only. The rotation is committed first; the answer used to wait for gossip
 * as well, which widened the window in which a crash or a dropped connection
 * loses that key. It now goes out once the rotation is committed; gossip
 * follows (sync carries the rotation where gossip does not).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { envelopeId, toB64 } from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import type { NodeParts } from '../../node/node-parts.js'
import { ANONYMOUS } from '../../node/services/authority.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { kitAgent } from '../helpers/service-kit.js'
import { waitFor } from '../helpers/wait-for.js'

let node: MeshNode
beforeAll(async () => {
  node = await startNode({ name: 'rotates' })
}, 60_000)
afterAll(() => stopAll([node]))

/** Hold every gossip publish until `release` is called; the ids of the envelopes published since. */
function holdGossip(n: MeshNode): { release: () => void; published: () => string[] } {
  const gossip = (n as unknown as { parts: NodeParts }).parts.gossip
  const original = gossip.publish.bind(gossip)
  let open: () => void = () => {}
  const gate = new Promise<void>((resolve) => (open = resolve))
  const ids: string[] = []
  gossip.publish = async (envelopes) => {
    await gate
    ids.push(...envelopes.map((e) => envelopeId(e)))
    return original(envelopes)
  }
  return { release: open, published: () => ids }
}

describe('a rotation by an agent that keeps its own keys', () => {
  it('is answered, with the key made here, before its gossip goes out', async () => {
    const { key, next, did, icp, reg } = kitAgent(randomBytes, Date.now(), {
      controller: node.did,
      peerId: node.info().peerId,
      name: 'byok',
    })
    await node.registerExternalAgent(icp, reg)
    const held = holdGossip(node)
    const rotation = await node.rotateAgent({
      did,
      currentPrivateKey: toB64(key.seed),
      nextPrivateKey: toB64(next.seed),
      authority: ANONYMOUS,
    })
    expect(rotation.keySeq).toBe(1)
    expect(rotation.nextPrivateKey).toMatch(/^[A-Za-z0-9+/]{43}=$/)
    expect(held.published()).toEqual([]) // answered while gossip was still held
    held.release()
    await waitFor(() => held.published().includes(envelopeId(rotation.envelope)))
  })
})
