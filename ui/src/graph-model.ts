/**
 * How agents and their history look in the network graph: pure functions
 * from the dashboard state to vis-network node and edge items. Local agents
 * are dots, remote agents diamonds; colour and size follow trust; revoked
 * agents are grey with a red border. Edges come from the node's message
 * history per pair: both directions of a pair share one edge (arrows show
 * which way messages went), at most `MAX_EDGES` of the most recent pairs.
 */
import type { Edge, Node } from 'vis-network/peer'
import type { GraphLink } from './graph-links.js'
import type { DashboardState } from './state.js'
import type { Agent } from './types.js'

/** Colours of the graph, matched to styles.css. */
export const GRAPH_COLORS = {
  text: '#e6edf7',
  muted: '#a3b3cc',
  revokedFill: '#3b4254',
  revokedBorder: '#ff7b7b',
  message: '#5f82bd',
  connection: '#3ddc97',
  flash: '#ffd866',
  particle: '#ffd866',
  rejected: '#ff5555',
} as const

type Rgb = readonly [number, number, number]
const RED: Rgb = [255, 107, 107]
const AMBER: Rgb = [255, 204, 102]
const GREEN: Rgb = [61, 220, 151]

function mix(a: Rgb, b: Rgb, t: number): string {
  const c = a.map((v, i) => Math.round(v + ((b[i] ?? v) - v) * t))
  return `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`
}

/** A hex colour for a trust score: red at 0, amber at 0.5, green at 1. */
export function trustHex(score: number): string {
  const s = Math.min(1, Math.max(0, score))
  return s < 0.5 ? mix(RED, AMBER, s * 2) : mix(AMBER, GREEN, (s - 0.5) * 2)
}

function tooltip(a: Agent): string {
  const caps = a.capabilities.map((c) => c.type).join(', ') || 'no capabilities'
  return `${a.name}\n${a.did}\ntrust ${a.trustScore.toFixed(2)} · ${a.origin} · ${a.status}\n${caps}\nclick for details`
}

/** The graph node of an agent (without a position). */
export function agentNode(a: Agent): Node {
  const revoked = a.status === 'revoked'
  const fill = revoked ? GRAPH_COLORS.revokedFill : trustHex(a.trustScore)
  const border = revoked ? GRAPH_COLORS.revokedBorder : a.origin === 'local' ? '#e6edf7' : '#d7a8ff'
  return {
    id: a.did,
    label: revoked ? `${a.name} (revoked)` : a.name,
    title: tooltip(a),
    shape: a.origin === 'local' ? 'dot' : 'diamond',
    size: revoked ? 12 : 12 + Math.round(a.trustScore * 14),
    borderWidth: revoked ? 3 : 2,
    shapeProperties: { borderDashes: revoked ? [4, 3] : false },
    color: {
      background: fill,
      border,
      highlight: { background: fill, border: GRAPH_COLORS.flash },
      hover: { background: fill, border: GRAPH_COLORS.flash },
    },
    font: { color: revoked ? GRAPH_COLORS.muted : GRAPH_COLORS.text },
  }
}

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
