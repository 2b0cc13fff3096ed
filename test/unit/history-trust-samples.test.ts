/**
 * Trust samples of a node holding many agents (issue 12): a sample reads the
 * records of the agents with trust evidence only, yet its average is the
 * average over every agent's score, and an agent without evidence shows the
 * score no evidence gives (docs/protocol.md §7) in every sample since it arrived.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { MeshNode } from '../../node/mesh-node.js'
import { OPERATOR } from '../../node/services/authority.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { fillRegistry, signAgents } from '../helpers/registry-fill.js'

const MINUTE = 60_000

interface Inside {
  readonly agents: {
    record(did: string): unknown
    list(): { did: string; trustScore: number }[]
  }
}

describe('trust samples over a large registry', () => {
  let nodes: MeshNode[] = []
  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  it('read only the evidenced agents, and average over all of them', async () => {
    let now = Date.UTC(2026, 11, 3, 10, 0, 30)
    const node = await startNode({ init: { clock: () => now } })
    nodes.push(node)
    const parts = (node as unknown as { parts: Inside }).parts
    const alice = (await node.registerAgent('alice')).identity.did
    const bob = (await node.registerAgent('bob')).identity.did
    for (let i = 0; i < 3; i++)
      await node.sendMessage({ authority: OPERATOR, fromDid: alice, toDid: bob, message: `m${i}` })
    const quiet = signAgents(300, node)
    fillRegistry(node, quiet)
    now += 2 * MINUTE

    let reads = 0
    const record = parts.agents.record.bind(parts.agents)
    parts.agents.record = (did) => {
      reads++
      return record(did)
    }
    const series = node.history().trustAverages()
    parts.agents.record = record

    const all = parts.agents.list()
    expect(all.length).toBe(302)
    const mean = all.reduce((s, a) => s + a.trustScore, 0) / all.length
    expect(series[series.length - 1]?.score).toBeCloseTo(mean, 4)
    expect(new Set(all.map((a) => a.trustScore)).size).toBeGreaterThan(1) // alice's messages earned her credit
    expect(reads).toBeLessThan(10)

    const quietDid = node.store.agents.list().find((a) => a.name === 'fill-0')!.did
    const quietScore = all.find((a) => a.did === quietDid)!.trustScore
    const points = node.history().trustOf(quietDid)
    expect(points.length).toBeGreaterThan(0)
    for (const p of points) expect(p.score).toBe(quietScore)
    const aliceScore = all.find((a) => a.did === alice)!.trustScore
    expect(node.history().trustOf(alice).at(-1)?.score).toBe(aliceScore)
  })
})
