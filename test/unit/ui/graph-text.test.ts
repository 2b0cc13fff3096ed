/**
 * The graph's items (vis-network labels drawn on the canvas, hover tooltips) show
 * agent names as the rest of the dashboard does (docs/dashboard.md, "Text from the
 * network"): through the state's `nameOf`, so as plain text (no bidirectional,
 * control or invisible character) and with the short DID when a name could pass
 * for another agent's; and the tooltip starts with the DID, the identity on hover,
 * so that no name can write a line above it.
 */
import { describe, expect, it } from 'vitest'
import { agentNode } from '../../../ui/src/graph-nodes.js'
import {
  applyEvent,
  applySnapshot,
  emptyState,
  emptyStats,
  nameOf,
  type DashboardState,
} from '../../../ui/src/state.js'
import type { Snapshot, StreamEvent } from '../../../ui/src/types.js'

const NODE = 'did:msig:NodeNodeNodeNodeNodeNodeNodeNodeNodeNodeNo1'
const A = 'did:msig:AaaaAaaaAaaaAaaaAaaaAaaaAaaaAaaaAaaaAaaaAaa1'
const M = 'did:msig:MmmmMmmmMmmmMmmmMmmmMmmmMmmmMmmmMmmmMmmmMm1'
const UNSAFE = /[\p{Cc}\p{Cf}]/u

function stateWith(agents: Record<string, string>): DashboardState {
  const s = emptyState()
  const node = {
    status: 'ok',
    name: 'alpha',
    did: NODE,
    didKey: 'did:key:z6Mk',
    peerId: '12D3',
    multiaddrs: [],
    uptime: 1,
  }
  applySnapshot(s, { node, stats: emptyStats(), agents: [], connections: [], peers: [] } as unknown as Snapshot)
  for (const [did, name] of Object.entries(agents)) {
    // only the fields the case reads: the rest of the event is left out on purpose
    const e = { type: 'agent:registered', timestamp: '2026-12-06T10:00:00.000Z', data: { did, name, source: 'gossip' } }
    applyEvent(s, e as unknown as StreamEvent)
  }
  return s
}

function nodeOf(s: DashboardState, did: string): { label: string; title: string } {
  const n = agentNode(s.agents[did]!, (d) => nameOf(s, d))
  return { label: String(n.label), title: String(n.title) }
}

describe('graph labels and tooltips', () => {
  it('carry no bidirectional control: "\\u202erennalp" is not drawn as "planner"', () => {
    const s = stateWith({ [M]: '\u202erennalp' })
    expect(nodeOf(s, M).label).toBe('\ufffdrennalp')
    for (const line of nodeOf(s, M).title.split('\n')) expect(line).not.toMatch(UNSAFE)
  })

  it('show the short DID of a name another agent has, on a line of its own', () => {
    const s = stateWith({ [A]: 'planner', [M]: 'Planner' })
    expect(nodeOf(s, A).label).toBe('planner\n(did:msig:AaaaAa…Aaa1)')
    expect(nodeOf(s, M).label).toBe('Planner\n(did:msig:MmmmMm…mMm1)')
  })

  it('keep "(revoked)" after the name, where no name can turn it around', () => {
    const s = stateWith({ [M]: 'planner\u202e' })
    s.agents[M]!.status = 'revoked'
    expect(nodeOf(s, M).label).toBe('planner\ufffd (revoked)')
  })

  it('start the tooltip with the DID: a name cannot write lines of its own', () => {
    const fake = `planner\n${A}\ntrust 0.97 · local · active`
    expect(fake.length).toBeLessThanOrEqual(128) // a name the node accepts
    const s = stateWith({ [A]: 'planner', [M]: fake })
    const lines = nodeOf(s, M).title.split('\n')
    expect(lines[0]).toBe(M)
    expect(lines[1]).toBe(`planner\ufffd${A}\ufffdtrust 0.97 · local · active`)
    expect(lines[2]).toBe('(did:msig:MmmmMm…mMm1)') // the name holds a DID: told apart
    expect(lines).toHaveLength(6) // DID, name, its short DID, trust · origin · status, capabilities, "click for details"
  })
})
