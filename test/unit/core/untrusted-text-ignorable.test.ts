/**
 * Every default-ignorable code point (invisible by Unicode's rule) is escaped
 * in CLI and MCP text and shown as U+FFFD on the dashboard (review 79: 3,753
 * of them passed the class of review 77, among them U+E0080–E00FF, which carry
 * bytes as tag characters do), and runs of joiners and U+FE0F carry nothing.
 */
import { describe, expect, it } from 'vitest'
import { oneLine } from '../../../node/core/untrusted-text.js'
import { plainText } from '../../../ui/src/format.js'

const DI = /^\p{Default_Ignorable_Code_Point}$/u
const passing = (f: (s: string) => string): string[] => {
  const out: string[] = []
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp === 0x200d || cp === 0xfe0f || (cp >= 0xd800 && cp <= 0xdfff)) continue // ZWJ kept by design; FE0F separately
    const c = String.fromCodePoint(cp)
    if (!DI.test(c)) continue
    if (f('a' + c + 'b') === 'a' + c + 'b') out.push(cp.toString(16))
  }
  return out
}
describe('invisible characters in text from the network', () => {
  it('CLI/MCP escapeUnsafe escapes every default-ignorable code point but ZWJ', () => {
    const l = passing(oneLine)
    expect(l).toEqual([])
  })
  it('dashboard plainText too', () => {
    const l = passing(plainText)
    expect(l).toEqual([])
  })
  it('a payload of 16 bytes hidden in unassigned tag-block neighbours (U+E0080 + byte/8) reads as "ab"', () => {
    const hidden = [...'secret: rm -rf /']
      .map((ch) => String.fromCodePoint(0xe0080 + (ch.charCodeAt(0) & 0x7f)))
      .join('')
    const s = 'a' + hidden + 'b'
    expect(oneLine(s)).not.toBe(s)
    expect(plainText(s)).toBe('a' + '\ufffd'.repeat(16) + 'b')
  })
  it('a ZWJ/FE0F run after a letter (a bit per character) is escaped', () => {
    const s = 'a' + '\u200d\ufe0f\u200d\u200d\ufe0f'.repeat(8) + 'b'
    expect(oneLine(s)).toBe('a' + '\\u200d\\ufe0f\\u200d\\u200d\\ufe0f'.repeat(8) + 'b')
  })
})
