/**
 * The controller of own-key agents rotated with a bare `rot` revokes a fresh batch of them while a node is
 * away, again and again (review 99): each time the node comes back and syncs from an honest node, it meets
 * revocations it cannot check (no registration it takes names their controller: docs/SECURITY.md, known
 * limits). Before, it charged the honest node for each as a forgery and, past 32, cut it off for 60 s
 * doubling to an hour (114 forgeries in all, cut off again on its return). Now such a revocation charges
 * nobody (decision 0069): the node keeps the honest peer however many batches come.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MeshNode } from '../../node/mesh-node.js'
import { freshIdentity, startNode, stopAll, tempDir } from '../helpers/mesh.js'
import { connectedTo, forgedBy, registerOwnKeyAgents, rotateThenRevoke } from './own-key-agents.js'

const dir = tempDir('meshsig-bare-rot-repeat-')
const identity = freshIdentity()
let honest: MeshNode
let controller: MeshNode
let returning: MeshNode | undefined

/** `count` agents rotated bare and revoked by the controller; the honest node, online, takes them by gossip. */
async function batch(count: number): Promise<void> {
  await rotateThenRevoke(controller, honest, await registerOwnKeyAgents(controller, honest, count), () => 'bare')
}

/** The returning node, from its own database, after its first round with the honest node has ended. */
async function comeBack(): Promise<MeshNode> {
  const dbPath = join(dir.dir, 'returning.db')
  returning = await startNode({ name: 'returning', identity, dbPath, peers: [honest.info().multiaddrs[0]!] })
  await returning.syncFrom(honest.mesh.peerId) // resolves after a round that starts once the first one ended
  return returning
}

beforeAll(async () => {
  honest = await startNode({ name: 'honest' })
  controller = await startNode({ name: 'controller', peers: [honest.info().multiaddrs[0]!] })
  await batch(33)
}, 120_000)

afterAll(async () => {
  await stopAll([honest, controller, returning])
  dir.cleanup()
})

describe('batches of revocations a returning node cannot check', () => {
  it('charge the honest node nothing, on each return', async () => {
    const first = await comeBack()
    expect(forgedBy(first, honest.mesh.peerId)).toBe(0)
    expect(connectedTo(first, honest.mesh.peerId)).toBe(true)
    await first.stop()

    await batch(40) // while it is away
    const again = await comeBack()
    expect(forgedBy(again, honest.mesh.peerId)).toBe(0)
    expect(connectedTo(again, honest.mesh.peerId)).toBe(true)
  }, 120_000)
})
