/**
 * The agents of one stream connection. A snapshot holds one page of the
 * registry (the stream's first one 100 agents, a refresh 1,000), so no
 * snapshot removes an agent: each one updates the agents of its page and adds
 * those the page did not know. The rest of the registry is read once per
 * connection (`GET /agents`: this node's agents and the newest others, at
 * most 10,000 of each, api.ts `fetchRegistry`); only then do the agents the
 * page knew from before the connection and the registry no longer holds go.
 * Until then they stay where they are (in the table, and in the graph at the
 * same place). Pure, so it is tested without a browser.
 */
import { noteAgent } from './agent-names.js'
import { applySnapshot, type DashboardState } from './state.js'
import type { Agent, Snapshot } from './types.js'

/** What a connection has confirmed of the agents the page already knew. */
export interface AgentSync {
  /** Agents known before this connection that the node has not shown since. */
  readonly unconfirmed: Set<string>
  /** True once this connection has read the registry (as much of it as the page holds). */
  complete: boolean
}

function prune(state: DashboardState, sync: AgentSync): void {
  for (const did of sync.unconfirmed) {
    delete state.agents[did]
    noteAgent(state, did)
  }
  sync.unconfirmed.clear()
  sync.complete = true
}

/** A connection's first snapshot. When it holds the whole registry, the agents it lacks go at once. */
export function beginAgentSync(state: DashboardState, snap: Snapshot, now?: number): AgentSync {
  const sync: AgentSync = { unconfirmed: new Set(Object.keys(state.agents)), complete: false }
  applySnapshot(state, snap, now)
  for (const a of snap.agents) sync.unconfirmed.delete(a.did)
  if (snap.page.agents.next === null) prune(state, sync)
  return sync
}

/** A refresh (`GET /snapshot`) during the connection: counters, and the agents of its page. */
export function refreshAgents(state: DashboardState, sync: AgentSync | undefined, snap: Snapshot): void {
  applySnapshot(state, snap)
  for (const a of snap.agents) sync?.unconfirmed.delete(a.did)
}

/**
 * The registry as the page holds it (`GET /agents`), read once per connection: agents not
 * known are added, those not yet confirmed are updated (the others are as
 * recent already: a snapshot or an event of this connection), and the agents
 * the registry no longer holds go.
 */
export function completeAgentSync(state: DashboardState, sync: AgentSync, agents: readonly Agent[]): void {
  for (const a of agents) {
    if (state.agents[a.did] === undefined || sync.unconfirmed.has(a.did)) {
      state.agents[a.did] = a
      noteAgent(state, a.did)
    }
    sync.unconfirmed.delete(a.did)
  }
  prune(state, sync)
}

/** Most agents one read of the registry asks for (the API's largest `limit`). */
export const REGISTRY_READ_LIMIT = 10_000

/**
 * What the page reads of the registry once per connection: this node's own
 * agents, then the newest others, `REGISTRY_READ_LIMIT` of each. Not the
 * whole registry: a remote peer can fill it with 250,000 agents, which the tab
 * would hold, and which, newer, would push this node's own out of view.
 */
export const REGISTRY_READS: readonly [string, string] = [
  `/agents?origin=local&limit=${REGISTRY_READ_LIMIT}`,
  `/agents?limit=${REGISTRY_READ_LIMIT}`,
]

/** The two reads as one list: this node's agents first, each agent once. */
export function mergeRegistryReads(local: readonly Agent[], newest: readonly Agent[]): Agent[] {
  const seen = new Set(local.map((a) => a.did))
  return [...local, ...newest.filter((a) => !seen.has(a.did))]
}
