/**
 * Repeated member names in JSON text. `JSON.parse` keeps the last of two
 * equal names and drops the first without a word, and RFC 8785 (JCS)
 * covers only JSON without repeats: an audit entry with `"kind"` twice
 * hashes as one text while a reader (or a first-wins parser) sees another
 * (docs/audit.md, "Verifying an export"). Pure, linear in the text.
 */

/** The index of the `"` closing the string that opens at `open`. */
function stringEnd(text: string, open: number): number {
  let end = text.indexOf('"', open + 1)
  for (;;) {
    if (end < 0) return text.length
    let slashes = 0
    while (text.charCodeAt(end - 1 - slashes) === 0x5c) slashes += 1
    if (slashes % 2 === 0) return end
    end = text.indexOf('"', end + 1)
  }
}

/**
 * The first member name that occurs twice in one object of `text` (names
 * compared after unescaping: `"a"` and `"\u0061"` are one), or undefined.
 * `text` is JSON that `JSON.parse` accepted; anything else gives no answer
 * worth using.
 */
export function duplicateJsonKey(text: string): string | undefined {
  const names: Array<Set<string> | null> = [] // per open object its names so far; null for an array
  let nameNext = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      const end = stringEnd(text, i)
      if (nameNext) {
        const raw = text.slice(i + 1, end)
        const name = raw.includes('\\') ? (JSON.parse(text.slice(i, end + 1)) as string) : raw
        const seen = names[names.length - 1]
        if (seen?.has(name)) return name
        seen?.add(name)
        nameNext = false
      }
      i = end
    } else if (c === 0x7b) {
      names.push(new Set())
      nameNext = true
    } else if (c === 0x5b) {
      names.push(null)
      nameNext = false
    } else if (c === 0x7d || c === 0x5d) {
      names.pop()
      nameNext = false
    } else if (c === 0x2c) {
      nameNext = (names[names.length - 1] ?? null) !== null
    }
  }
  return undefined
}
