/**
 * An `ids` request costs the serving node work in what it names, not in the
 * size of the registry (review 120, M2; docs/protocol.md §9, "Budgets";
 * decision 0086). A rogue named 256 prefixes under which the node holds
 * nothing, duplicates allowed: the node walked its whole leaf map once per
 * prefix and served nothing, so the serve budget, counting items served only,
 * never refused it. The test counts the leaf sets the index reads (by
 * iteration or by key) while it answers such requests over a real stream,
 * then that such requests spend the asker's serve budget.
 */
import { afterAll, describe, expect, it } from 'vitest'
import type { MeshNode } from '../../node/mesh-node.js'
import type { NodeParts } from '../../node/node-state.js'
import type { MeshP2P } from '../../node/p2p/index.js'
import { requestCost, SYNC_SERVE_ITEMS_PER_PEER } from '../../node/p2p/serve-budget.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { fillRegistry, signAgents } from '../helpers/registry-fill.js'
import { connectedRogue } from './flood-rogue.js'

const REQUESTS = 20
const PREFIXES = 256

type Leaves = Map<string, Set<string>>

/** A leaf map that counts every leaf set read from it. */
class CountingLeaves extends Map<string, Set<string>> {
  reads = 0
  override get(key: string): Set<string> | undefined {
    this.reads++
    return super.get(key)
  }
  override *[Symbol.iterator](): MapIterator<[string, Set<string>]> {
    for (const entry of super[Symbol.iterator]()) {
      this.reads++
      yield entry
    }
  }
}

describe('ids requests over prefixes the node holds nothing under (review 120, M2)', () => {
  const nodes: MeshNode[] = []
  const rogues: MeshP2P[] = []
  afterAll(async () => {
    await Promise.all(rogues.map((r) => r.stop()))
    await stopAll(nodes)
  })

  it('reads a bounded number of leaf sets per prefix asked, and charges the asker for each', async () => {
    const node = await startNode()
    nodes.push(node)
    fillRegistry(node, signAgents(1_000, node))
    const index = (node as unknown as { parts: NodeParts }).parts.registrySync.index
    const held = index as unknown as { leaves: Leaves }
    const leaves = new CountingLeaves(held.leaves)
    held.leaves = leaves
    const empties: string[] = []
    for (let p = 0; p < 4096; p++) {
      const prefix = p.toString(16).padStart(3, '0')
      if (index.fingerprint(prefix).count === 0) empties.push(prefix)
    }
    expect(empties.length).toBeGreaterThan(0)
    expect(leaves.size).toBeGreaterThan(1_000) // a scan per prefix would read far past the bound below
    const prefixes = Array.from({ length: PREFIXES }, (_, i) => empties[i % empties.length]!)
    const rogue = await connectedRogue(node, 'r120-ids')
    rogues.push(rogue)
    leaves.reads = 0
    let items = 0
    for (let i = 0; i < REQUESTS; i++) {
      items += (await rogue.sync(node.info().peerId, { kind: 'ids', prefixes })).length
    }
    expect(items).toBe(0)
    // a three-digit prefix is one leaf: a node that looks it up reads at most a few sets per prefix asked
    expect(leaves.reads).toBeLessThanOrEqual(REQUESTS * PREFIXES * 16)

    // and each request is charged what it names, so empty answers spend the asker's serve budget
    const cost = requestCost({ kind: 'ids', prefixes })
    let answered = REQUESTS
    let refusal: unknown
    while (refusal === undefined && answered < SYNC_SERVE_ITEMS_PER_PEER) {
      try {
        await rogue.sync(node.info().peerId, { kind: 'ids', prefixes })
        answered++
      } catch (err) {
        refusal = err
      }
    }
    expect(String(refusal)).toMatch(/RATE_LIMITED|budget/)
    expect(answered).toBe(Math.floor(SYNC_SERVE_ITEMS_PER_PEER / cost))
  }, 120_000)
})
