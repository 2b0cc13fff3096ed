/**
 * How agents and links look in the network graph: pure functions from the
 * dashboard state to vis-network node and edge items. Local agents are
 * dots, remote agents diamonds; colour and size follow trust; revoked
 * agents are grey with a red border.
 */
import type { Edge, Node } from 'vis-network/peer'
import type { Link } from './state.js'
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
  return `${a.name}\n${a.did}\ntrust ${a.trustScore.toFixed(2)} · ${a.origin} · ${a.status}\n${caps}`
}

/** The graph node of an agent. */
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

/** The node style while its agent's message flashes. */
export function flashedNode(a: Agent): Node {
  const fill = a.status === 'revoked' ? GRAPH_COLORS.revokedFill : trustHex(a.trustScore)
  return { id: a.did, borderWidth: 5, color: { background: fill, border: GRAPH_COLORS.flash } }
}

/** Width of a message edge: grows with the number of messages, slowly. */
export function linkWidth(link: Link): number {
  return link.kind === 'connection' ? 1.5 : 1 + Math.min(4, Math.log2(link.count))
}

/** The graph edge of a link (messages are arrows, handshakes dashed lines). */
export function linkEdge(link: Link): Edge {
  const message = link.kind === 'message'
  const color = message ? GRAPH_COLORS.message : GRAPH_COLORS.connection
  return {
    id: link.id,
    from: link.from,
    to: link.to,
    width: linkWidth(link),
    dashes: !message,
    // Messages curve (so a→b and b→a part ways); handshakes run straight between them.
    smooth: message
      ? { enabled: true, type: 'curvedCW', roundness: 0.18 }
      : { enabled: false, type: 'continuous', roundness: 0 },
    arrows: message ? { to: { enabled: true, scaleFactor: 0.6 } } : { to: { enabled: false } },
    color: { color, highlight: GRAPH_COLORS.flash, hover: GRAPH_COLORS.flash, opacity: message ? 0.9 : 0.7 },
    title: message ? `${link.count} signed message${link.count === 1 ? '' : 's'}` : 'verified handshake',
  }
}

/** The edge style while it flashes for a new message. */
export function flashedEdge(link: Link): Edge {
  return { id: link.id, width: linkWidth(link) + 4, color: { color: GRAPH_COLORS.flash, opacity: 1 } }
}

/** Only edges whose two ends are drawn (a message may name an agent not known yet). */
export function drawableLinks(links: readonly Link[], agents: readonly Agent[]): Link[] {
  const known = new Set(agents.map((a) => a.did))
  return links.filter((l) => known.has(l.from) && known.has(l.to))
}
