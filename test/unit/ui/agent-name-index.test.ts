/**
 * The name index of ui/src/agent-names.ts (docs/dashboard.md, "Text from the
 * network") and the work it costs the tab. It used to count every agent's name
 * again (NFKC) after each registration and each snapshot refresh: with the
 * 20,000 agents the page holds and names a peer chose to be dear to normalise
 * (U+FDFA, which NFKC writes as 18 characters), a Chromium tab was blocked 14 s
 * of 19. The work is counted here, not timed: calls of `String.prototype.normalize`
 * and the length of what each is given.
 */
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest'
import { beginAgentSync, completeAgentSync, refreshAgents } from '../../../ui/src/agent-sync.js'
import { nameKey } from '../../../ui/src/agent-names.js'
import { applyEvent, emptyState, emptyStats, nameOf, type DashboardState } from '../../../ui/src/state.js'
import type { Agent, Snapshot, StreamEvent } from '../../../ui/src/types.js'

const NODE = 'did:msig:NodeNodeNodeNodeNodeNodeNodeNodeNodeNodeNo1'
const AGENTS = 5_000
const did = (i: number): string => `did:msig:Agent${String(i).padStart(6, '0')}xxxxxxxxxxxxxxxxxxxxxxxxxx`

const agent = (d: string, name: string): Agent =>
  ({ did: d, name, capabilities: [], status: 'active', origin: 'remote', originServer: 'x' }) as unknown as Agent

function snapshot(agents: Agent[], total: number): Snapshot {
  const node = {
    status: 'ok',
    name: 'alpha',
    did: NODE,
    didKey: 'did:key:z6Mk',
    peerId: '12D3',
    multiaddrs: [],
    uptime: 1,
  }
  const next = agents.length < total ? String(agents.length) : null
  const page = { limit: 1000, agents: { total, next } }
  return { node, stats: emptyStats(), agents, connections: [], peers: [], page } as unknown as Snapshot
}

function registered(d: string, name: string): StreamEvent {
  // only the fields the case reads: the rest of the event is left out on purpose
  const data = { did: d, name, controller: 'x', source: 'gossip' }
  return { type: 'agent:registered', timestamp: '2026-12-06T10:00:00.000Z', data } as unknown as StreamEvent
}

let normalize: MockInstance<(this: string, form?: string) => string>
beforeEach(() => {
  normalize = vi.spyOn(String.prototype, 'normalize')
})
afterEach(() => normalize.mockRestore())

/** How many characters `normalize` was given since the last call of this function, and in how many calls. */
function normalised(): { calls: number; longest: number } {
  const lengths = normalize.mock.contexts.map((s) => String(s).length)
  normalize.mockClear()
  return { calls: lengths.length, longest: Math.max(0, ...lengths) }
}

describe('the name index', () => {
  it('normalises each name once: registrations and snapshot refreshes cost the names they change', () => {
    const s: DashboardState = emptyState()
    const all = Array.from({ length: AGENTS }, (_, i) => agent(did(i), `agent-${i}`))
    const sync = beginAgentSync(s, snapshot(all.slice(0, 100), AGENTS))
    completeAgentSync(s, sync, all)
    expect(nameOf(s, did(1))).toBe('agent-1')
    expect(normalised().calls).toBeLessThanOrEqual(AGENTS + 2) // every name once, and a few more
    for (let i = 0; i < 20; i++) {
      applyEvent(s, registered(did(AGENTS + i), `late-${i}`)) // a peer's new agent
      refreshAgents(s, sync, snapshot(all.slice(0, 1000), AGENTS + i + 1)) // the same page again
      for (let j = 0; j < 50; j++) nameOf(s, did(j * 7)) // the feed, the graph's edges
    }
    applyEvent(s, registered(did(3), 'renamed')) // a renewed registration with another name
    expect(nameOf(s, did(3))).toBe('renamed')
    expect(normalised().calls).toBeLessThanOrEqual(21) // the 20 new names and the renamed one
  })

  it('normalises a bounded part of a name, and keeps a bounded key', () => {
    const dear = '\ufdfa'.repeat(128) // the longest name the node accepts; NFKC: 2,304 characters
    expect(nameKey(dear).length).toBeLessThanOrEqual(256)
    expect(normalised().longest).toBeLessThanOrEqual(128)
    nameKey('x'.repeat(100_000)) // longer than any name the node accepts: a node that lies
    expect(normalised().longest).toBeLessThanOrEqual(128)
  })

  it('still tells names apart as a reader sees them, past the bound too', () => {
    const s = emptyState()
    // one script (Arabic) throughout: a name mixing Latin with it would be told apart whatever it shares
    const long = '\u0628' + '\ufdfa'.repeat(100) // 1,801 characters once normalised
    completeAgentSync(s, beginAgentSync(s, snapshot([], 4)), [
      agent(did(1), long),
      agent(did(2), '\u200b' + long), // the same name to a reader
      agent(did(3), '\u062a' + '\ufdfa'.repeat(100)),
      agent(did(4), 'planner'),
    ])
    expect(nameOf(s, did(1))).toMatch(/\(did:msig:Agent0…xxxx\)$/)
    expect(nameOf(s, did(2))).toMatch(/^\ufffd\u0628\ufdfa+\n\(did:msig:Agent0…xxxx\)$/)
    expect(nameOf(s, did(3))).not.toMatch(/\(did:/)
    // an agent the registry no longer holds takes its name out of the index
    completeAgentSync(s, beginAgentSync(s, snapshot([], 3)), [agent(did(1), long), agent(did(3), 'planner')])
    expect(nameOf(s, did(1))).toBe(long)
    applyEvent(s, registered(did(5), 'Planner'))
    expect(nameOf(s, did(3))).toBe('planner\n(did:msig:Agent0…xxxx)')
  })
})
