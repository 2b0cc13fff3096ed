/**
 * What the graph draws. Its edges from the message history per pair: both
 * directions of a pair share one edge (arrows show which way messages went),
 * at most `MAX_EDGES` of the pairs with the most recent traffic, plus every
 * verified handshake. Its agents: at most `MAX_GRAPH_AGENTS` of them. Pure,
 * so it is tested without a browser.
 */
import type { DashboardState, Pair } from './state.js'
import type { Agent } from './types.js'

/** Most edges drawn: the pairs with the most recent traffic (handshakes always). */
export const MAX_EDGES = 600

/** One drawn edge: a pair of agents with the messages each way, or a handshake. */
export interface GraphLink {
  readonly id: string
  readonly a: string
  readonly b: string
  readonly ab: number
  readonly ba: number
  readonly lastTs: number
  readonly handshake: boolean
}

/** Id of the edge between two agents (the same for both directions). */
export function linkId(x: string, y: string): string {
  return x < y ? `${x}|${y}` : `${y}|${x}`
}

function mergePairs(
  pairs: readonly Pair[],
): Map<string, { a: string; b: string; ab: number; ba: number; lastTs: number }> {
  const merged = new Map<string, { a: string; b: string; ab: number; ba: number; lastTs: number }>()
  for (const p of pairs) {
    const [a, b] = p.from < p.to ? [p.from, p.to] : [p.to, p.from]
    const id = linkId(a, b)
    const m = merged.get(id) ?? { a, b, ab: 0, ba: 0, lastTs: 0 }
    if (p.from === a) m.ab += p.count
    else m.ba += p.count
    m.lastTs = Math.max(m.lastTs, p.lastTs)
    merged.set(id, m)
  }
  return merged
}

/** The edges to draw: pairs whose two agents are known, most recent first, capped; handshakes added. */
export function graphLinks(state: DashboardState, max = MAX_EDGES): GraphLink[] {
  const known = (did: string): boolean => state.agents[did] !== undefined
  const merged = mergePairs(Object.values(state.pairs).filter((p) => known(p.from) && known(p.to)))
  const hs = new Set<string>()
  for (const h of Object.values(state.handshakes)) if (known(h.a) && known(h.b)) hs.add(linkId(h.a, h.b))
  const links: GraphLink[] = [...merged.entries()]
    .sort((x, y) => y[1].lastTs - x[1].lastTs)
    .slice(0, max)
    .map(([id, m]) => ({ id, ...m, handshake: hs.has(id) }))
  const drawn = new Set(links.map((l) => l.id))
  for (const id of hs) {
    if (drawn.has(id)) continue
    const [a = '', b = ''] = id.split('|')
    links.push({ id, a, b, ab: 0, ba: 0, lastTs: 0, handshake: true })
  }
  return links
}

/** Most agents the graph draws (docs/dashboard.md); the table lists them all. */
export const MAX_GRAPH_AGENTS = 500

/** Busier first: more interactions, then the newer registration. */
function busier(x: Agent, y: Agent): number {
  return y.interactionsTotal - x.interactionsTotal || y.createdAt.localeCompare(x.createdAt) || (x.did < y.did ? -1 : 1)
}

/**
 * The agents to draw: all of them up to `max`, else the selected one, the
 * agents of the drawn edges (most recent traffic first), the local agents,
 * then the others; in each of the last two groups the busiest first (only a
 * group that does not fit whole is sorted).
 */
export function graphAgents(
  state: DashboardState,
  links: readonly GraphLink[],
  selected?: string,
  max = MAX_GRAPH_AGENTS,
): Agent[] {
  const all = Object.values(state.agents)
  if (all.length <= max) return all
  const chosen = new Map<string, Agent>()
  const take = (did: string | undefined): void => {
    const a = did === undefined ? undefined : state.agents[did]
    if (a !== undefined && chosen.size < max) chosen.set(a.did, a)
  }
  take(selected)
  for (const l of links) {
    take(l.a)
    take(l.b)
  }
  for (const local of [true, false]) {
    const group = all.filter((a) => (a.origin === 'local') === local && !chosen.has(a.did))
    if (group.length > max - chosen.size) group.sort(busier)
    for (const a of group.slice(0, max - chosen.size)) chosen.set(a.did, a)
  }
  return [...chosen.values()]
}
