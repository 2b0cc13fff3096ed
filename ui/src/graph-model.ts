/**
 * How agents' history looks in the network graph: pure functions from the
 * dashboard state to vis-network edge items, and where a new agent goes (its
 * node item: graph-nodes.ts). Edges come from the node's message history per
 * pair: both directions of a pair share one edge (arrows show which way
 * messages went), at most `MAX_EDGES` of the most recent pairs.
 */
import type { Edge } from 'vis-network/peer'
import type { GraphLink } from './graph-links.js'
import { GRAPH_COLORS } from './graph-nodes.js'
import type { DashboardState } from './state.js'

export { agentNode, GRAPH_COLORS, trustHex } from './graph-nodes.js'

/**
 * Width of an edge: grows with the number of messages, slowly and in steps
 * (1, 3, 7, 15, 31 messages…), so that most messages leave it as it is and
 * the graph need not be redrawn for them.
 */
export function linkWidth(link: GraphLink): number {
  const n = link.ab + link.ba
  return n === 0 ? 1.5 : 1 + Math.min(5, Math.floor(Math.log2(1 + n)))
}

function linkTitle(link: GraphLink, name: (did: string) => string): string {
  const lines = [`${name(link.a)} → ${name(link.b)}: ${link.ab}`, `${name(link.b)} → ${name(link.a)}: ${link.ba}`]
  if (link.handshake) lines.push('verified handshake')
  return lines.join('\n')
}

/** The vis-network edge of a link: arrows the way messages went, dashed when only a handshake. */
export function linkEdge(link: GraphLink, name: (did: string) => string): Edge {
  const messages = link.ab + link.ba > 0
  const color = messages ? GRAPH_COLORS.message : GRAPH_COLORS.connection
  return {
    id: link.id,
    from: link.a,
    to: link.b,
    width: linkWidth(link),
    dashes: !messages,
    smooth: false,
    arrows: {
      to: { enabled: link.ab > 0, scaleFactor: 0.5 },
      from: { enabled: link.ba > 0, scaleFactor: 0.5 },
    },
    color: { color, highlight: GRAPH_COLORS.flash, hover: GRAPH_COLORS.flash, opacity: messages ? 0.75 : 0.7 },
    title: linkTitle(link, name),
  }
}

/**
 * A position for a new agent: next to the agents it exchanged messages
 * with (their centre, nudged), else next to another agent of its host.
 */
export function placeNear(
  did: string,
  state: DashboardState,
  position: (did: string) => { x: number; y: number } | undefined,
): { x: number; y: number } | undefined {
  const peers = new Set<string>()
  for (const p of Object.values(state.pairs)) {
    if (p.from === did) peers.add(p.to)
    if (p.to === did) peers.add(p.from)
  }
  if (peers.size === 0) {
    const host = state.agents[did]?.originServer
    const sibling = Object.values(state.agents).find((a) => a.did !== did && a.originServer === host && position(a.did))
    if (sibling) peers.add(sibling.did)
  }
  const points = [...peers].map(position).filter((p): p is { x: number; y: number } => p !== undefined)
  if (points.length === 0) return undefined
  const angle = Math.random() * Math.PI * 2
  const x = points.reduce((s, p) => s + p.x, 0) / points.length + Math.cos(angle) * 60
  const y = points.reduce((s, p) => s + p.y, 0) / points.length + Math.sin(angle) * 60
  return { x, y }
}
