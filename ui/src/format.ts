/** Small display helpers shared by the components. */

/**
 * Control characters, lone surrogates, line separators, and every format or
 * default-ignorable character (bidirectional controls and marks, zero-width
 * and invisible characters, fillers, tag characters, variation selectors;
 * node/core/untrusted-text.ts holds the same class for the CLI and MCP): in
 * text from the network they reorder or hide what follows them on a line (a
 * name ending in U+202E drew the rest of a feed line backwards), carry text
 * nobody sees, or make two names look one. The zero-width joiner between two
 * pictographs and U+FE0F after an emoji character stay: emoji are made of them.
 */
const UNSAFE_CHARS =
  /[\p{Cc}\p{Cs}\u2028\u2029]|(?![\u200d\ufe0f])[\p{Cf}\p{Default_Ignorable_Code_Point}]|(?<![\p{Extended_Pictographic}\p{Emoji_Modifier}\ufe0f])\u200d|\u200d(?!\p{Extended_Pictographic})|(?<!\p{Emoji})\ufe0f/gu

/** `text` with every control, bidirectional control and invisible character shown as U+FFFD (docs/dashboard.md). */
export function plainText(text: string): string {
  return text.replace(UNSAFE_CHARS, '\ufffd')
}

/** `text` cut to `max` characters, `…` marking the cut. */
export function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/** `did:msig:3icqQkmJ…Tek2`: method, the first 6 and last 4 characters of the identifier. */
export function shortDid(did: string): string {
  const m = /^(did:[a-z0-9]+:)(.+)$/i.exec(did)
  const [prefix, id] = m ? [m[1] ?? '', m[2] ?? ''] : ['', did]
  return id.length <= 12 ? did : `${prefix}${id.slice(0, 6)}…${id.slice(-4)}`
}

/** A short middle-elided form of a long identifier (peer ids, keys, roots). */
export function shortId(id: string, head = 8, tail = 4): string {
  return id.length <= head + tail + 1 ? id : `${id.slice(0, head)}…${id.slice(-tail)}`
}

/** Seconds as `3d 4h`, `1h 02m`, `5m 07s` or `42s`. */
export function formatUptime(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds))
  const d = Math.floor(s / 86_400)
  const h = Math.floor((s % 86_400) / 3_600)
  const m = Math.floor((s % 3_600) / 60)
  const two = (n: number): string => String(n).padStart(2, '0')
  if (d > 0) return `${d}d ${h}h`
  if (h > 0) return `${h}h ${two(m)}m`
  if (m > 0) return `${m}m ${two(s % 60)}s`
  return `${s}s`
}

/** The local wall-clock time of an ISO timestamp, `HH:MM:SS`. */
export function clockTime(iso: string): string {
  const t = new Date(iso)
  if (Number.isNaN(t.getTime())) return '--:--:--'
  return t.toLocaleTimeString([], { hour12: false, hour: '2-digit', minute: '2-digit', second: '2-digit' })
}

/** A trust score 0…1 as a whole percentage. */
export function trustPercent(score: number): number {
  return Math.round(Math.min(1, Math.max(0, score)) * 100)
}

/** A colour from red (0) through amber to green (1) for a trust score. */
export function trustColor(score: number): string {
  const hue = Math.round(Math.min(1, Math.max(0, score)) * 130)
  return `hsl(${hue} 75% 55%)`
}

/** Thousands separators for counters. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US')
}

/**
 * A name as shown (ui/src/agent-names.ts): plain text, and the short DID that
 * tells it apart when it could pass for another agent's. The tag is never part
 * of the name's text: HTML shows it as an element of its own (`AgentName.vue`).
 */
export interface ShownName {
  readonly name: string
  readonly tag?: string
}

/**
 * A shown name as one text, for canvas labels and tooltips: the short DID on a
 * line of its own, which no name can write (`plainText` shows a newline as U+FFFD).
 */
export function nameLines(n: ShownName): string {
  return n.tag === undefined ? n.name : `${n.name}\n(${n.tag})`
}

/** A shown name on one line, `name (tag)`: for text searched, compared or read aloud, not to tell names apart by. */
export function nameFlat(n: ShownName): string {
  return n.tag === undefined ? n.name : `${n.name} (${n.tag})`
}
