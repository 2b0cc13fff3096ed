/**
 * Text from the network in human output (decision 0055): quoted on one line,
 * nothing in it that adds a line, hides or reorders what follows, or acts on
 * a terminal.
 */
import { describe, expect, it } from 'vitest'
import { escapeUnsafe, oneLine, quoted } from '../../../node/core/untrusted-text.js'

const UNSAFE =
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b\u200c\u200e\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]/

describe('untrusted text', () => {
  it('quoted: JSON-style quotes, one line, no control, bidi, separator or invisible character left', () => {
    const evil = 'routine\n\n✓ SIGNATURE VALID\r\u0085\u2028\u2029\u202e\u2066\u200b\u00ad\ufeff\u001b[8m"\\'
    const q = quoted(evil)
    expect(q.startsWith('"') && q.endsWith('"')).toBe(true)
    expect(q).not.toMatch(UNSAFE)
    expect(q).toBe(
      '"routine\\n\\n✓ SIGNATURE VALID\\r\\u0085\\u2028\\u2029\\u202e\\u2066\\u200b\\u00ad\\ufeff\\u001b[8m\\"\\\\"',
    )
  })

  it('keeps what is safe: letters of any script, emoji sequences with the zero-width joiner', () => {
    expect(quoted('Zoë 👩‍💻 مرحبا')).toBe('"Zoë 👩‍💻 مرحبا"')
  })

  it('oneLine escapes newlines; escapeUnsafe with keepLines keeps newline and tab only', () => {
    expect(oneLine('a\nb\u202e')).toBe('a\\u000ab\\u202e')
    expect(escapeUnsafe('a\n\tb\r\u0007', true)).toBe('a\n\tb\\u000d\\u0007')
  })
})
