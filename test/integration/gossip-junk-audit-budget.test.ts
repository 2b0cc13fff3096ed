/**
 * Security review (rogue gossip peer): gossip that is no envelope at all is audited entry by entry
 * (MeshGossip.recordUndecodable), before and whatever gossipsub's score does to the peer. How many audit
 * entries can one fresh PeerId write into an honest node's append-only, Merkle-signed audit log?
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MeshNode } from '../../node/mesh-node.js'
import type { MeshP2P } from '../../node/p2p/index.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { rogueP2P } from './flood-rogue.js'

const JUNK = 2_000
let victim: MeshNode
const rogues: MeshP2P[] = []

function junkEntries(node: MeshNode): number {
  return node.store.auditEntries
    .entries(0, node.store.auditEntries.count())
    .map((r) => JSON.parse(r.entry) as { kind: string; code: string | null })
    .filter((e) => e.kind === 'envelope.rejected' && e.code === 'MALFORMED').length
}

beforeAll(async () => {
  victim = await startNode({ name: 'victim' })
}, 60_000)

afterAll(async () => {
  for (const r of rogues) await r.stop().catch(() => undefined)
  await stopAll([victim])
})

describe('a rogue peer gossiping bytes that are no envelope', () => {
  it('cannot grow the victim’s audit log by one entry per junk frame', async () => {
    const before = victim.store.auditEntries.count()
    for (let k = 0; k < 3; k++) {
      // a fresh PeerId costs nothing: a new key and a connection
      const rogue = await rogueP2P(`junk-audit-${k}`)
      rogues.push(rogue)
      await rogue.start()
      await rogue.dial(victim.info().multiaddrs[0]!)
      await waitFor(() => rogue.subscribers('meshsig/v1/registry').includes(victim.mesh.peerId), { timeout: 15_000 })
      const sends: Promise<unknown>[] = []
      for (let i = 0; i < JUNK; i++) sends.push(rogue.publish('meshsig/v1/registry', new TextEncoder().encode(`x${i}`)))
      await Promise.allSettled(sends)
      await new Promise((r) => setTimeout(r, 3_000))
      console.log(
        `rogue ${k}: ${JUNK} junk frames; MALFORMED audit entries so far ${junkEntries(victim)}; score ${victim.mesh.peerScore(rogue.peerId)}`,
      )
      await rogue.stop()
    }
    const junk = junkEntries(victim)
    console.log(`total: audit log grew by ${victim.store.auditEntries.count() - before}`)
    // a forged frame must cost its sender its standing within a handful (libp2p-config.ts: "a handful in quick
    // succession sinks the peer below the graylist threshold"); not one audit entry each
    expect(junk).toBeLessThanOrEqual(64)
  }, 90_000)
})
