/**
 * How an agent looks in the network graph (pure): local agents are dots,
 * remote agents diamonds; colour and size follow trust; revoked agents are
 * grey with a red border; the label and tooltip show the name as the state's
 * `nameOf` does (docs/dashboard.md, "Text from the network"). Nothing of
 * vis-network is imported here, so the tests (compiled as Node modules, which
 * cannot read vis-network's type declarations) check it as it is.
 */
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

/**
 * The DID first: the identity on hover (docs/dashboard.md, "Text from the
 * network"), above anything a name could write; the name as `nameOf` shows it
 * (plain text: a newline in it is `�`, so it stays one line; a name told apart
 * has its short DID on the next line, which no name can write).
 */
function tooltip(a: Agent, shown: string): string {
  const caps = a.capabilities.map((c) => c.type).join(', ') || 'no capabilities'
  return `${a.did}\n${shown}\ntrust ${a.trustScore.toFixed(2)} · ${a.origin} · ${a.status}\n${caps}\nclick for details`
}

/** The vis-network node item of an agent (a `Node` of vis-network/peer, which this file does not import). */
export interface AgentNode {
  readonly id: string
  readonly label: string
  readonly title: string
  readonly shape: 'dot' | 'diamond'
  readonly size: number
  readonly borderWidth: number
  readonly shapeProperties: { readonly borderDashes: number[] | false }
  readonly color: {
    readonly background: string
    readonly border: string
    readonly highlight: { readonly background: string; readonly border: string }
    readonly hover: { readonly background: string; readonly border: string }
  }
  readonly font: { readonly color: string }
}

/** The graph node of an agent (without a position); `name` is the state's `nameOf`, as for `linkEdge`. */
export function agentNode(a: Agent, name: (did: string) => string): AgentNode {
  const revoked = a.status === 'revoked'
  const fill = revoked ? GRAPH_COLORS.revokedFill : trustHex(a.trustScore)
  const border = revoked ? GRAPH_COLORS.revokedBorder : a.origin === 'local' ? '#e6edf7' : '#d7a8ff'
  const shown = name(a.did)
  return {
    id: a.did,
    label: revoked ? `${shown} (revoked)` : shown,
    title: tooltip(a, shown),
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
