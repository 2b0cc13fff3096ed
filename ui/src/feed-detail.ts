/**
 * An entry's detail as the feed shows it (feed.ts): text, and names told apart
 * by a tag of their own (docs/dashboard.md, "Text from the network"), which
 * the feed shows as an element, never as text of the line.
 */
import { nameFlat, plainText, type ShownName } from './format.js'

/** A piece of an entry's detail: text, or a name told apart by its short DID (docs/dashboard.md, "Text from the network"). */
export type DetailPart = string | ShownName

/** A detail of text and names: a name without a tag is text, text next to text is one piece. */
export function line(strings: TemplateStringsArray, ...values: (DetailPart | number)[]): DetailPart[] {
  const out: DetailPart[] = []
  const add = (p: DetailPart | number): void => {
    const part = typeof p === 'number' ? String(p) : typeof p !== 'string' && p.tag === undefined ? p.name : p
    const last = out[out.length - 1]
    if (typeof part === 'string' && typeof last === 'string') out[out.length - 1] = last + part
    else if (part !== '') out.push(part)
  }
  strings.forEach((s, i) => {
    add(s)
    if (i < values.length) add(values[i] ?? '')
  })
  return out
}

export const flat = (p: DetailPart): string => (typeof p === 'string' ? p : nameFlat(p))

/**
 * The parts of a detail within `max` characters of its flat text, as `cut`
 * has it: the part that does not fit is cut as text (a name, without its tag), `…` marking the cut.
 */
export function cutParts(parts: readonly DetailPart[], max: number): DetailPart[] {
  let left = max
  const out: DetailPart[] = []
  if (parts.reduce((n, p) => n + flat(p).length, 0) <= max) out.push(...parts)
  else
    for (const p of parts) {
      const n = flat(p).length
      const text = typeof p === 'string' ? p : p.name
      if (n >= left) {
        out.push(text.length < left ? `${text}…` : `${text.slice(0, left - 1)}…`)
        break
      }
      out.push(p)
      left -= n
    }
  return out.map((p) => (typeof p === 'string' ? plainText(p) : p))
}
