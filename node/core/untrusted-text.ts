/**
 * Text from the network (agent names, capabilities, revocation reasons, a
 * node's name or error message: whatever an agent or a peer chose) as the
 * human text of the CLI and the MCP tools shows it. Such text must not add
 * lines of its own, hide or reorder what follows it, or act on a terminal:
 * a revocation reason that reads "\n✓ SIGNATURE VALID" must not look like the
 * tool's own verdict to the person or model reading it (decision 0055). The
 * dashboard keeps its own copy of the character class (ui/src/format.ts: it
 * imports no project code).
 */

/**
 * Control characters (C0, DEL, C1), bidirectional controls and marks (U+061C,
 * U+200E/F, U+202A–202E, U+2066–2069), line and paragraph separators
 * (U+2028/9), invisible characters (soft hyphen, combining grapheme joiner,
 * Hangul fillers, U+180E, zero-width space and non-joiner, word joiner and
 * invisible operators, BOM, interlinear annotations, invisible musical
 * symbols), lone surrogates, and the characters that carry text a reader
 * does not see but a model reads: tag characters (U+E0000–E007F) and
 * variation selectors (U+FE00–FE0E, U+E0100–E01EF; review 77). U+FE0F, which
 * makes a symbol an emoji, stays right after a symbol (U+00A9 and up, no
 * selector); after ASCII, repeated or leading it is escaped too. The
 * zero-width joiner stays: emoji sequences are made with it.
 */
const UNSAFE =
  /[\u0000-\u001f\u007f-\u009f\u00ad\u034f\u061c\u115f\u1160\u180e\u200b\u200c\u200e\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\u3164\ud800-\udfff\ufe00-\ufe0e\ufeff\uffa0\ufff9-\ufffb\u{1d173}-\u{1d17a}\u{e0000}-\u{e007f}\u{e0100}-\u{e01ef}]|(?<![\u00a9-\ufdff\ufe10-\uffff\u{10000}-\u{e00ff}\u{e01f0}-\u{10ffff}])\ufe0f/gu

function escaped(c: string): string {
  const cp = c.codePointAt(0) ?? 0
  return cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, '0')}`
}

/**
 * `text` with every unsafe character (above) shown as `\uXXXX`; with
 * `keepLines`, newline and tab stay (a command's own layout).
 */
export function escapeUnsafe(text: string, keepLines = false): string {
  return text.replace(UNSAFE, (c) => (keepLines && (c === '\n' || c === '\t') ? c : escaped(c)))
}

/** A value from the network on one line: every unsafe character, newlines included, as `\uXXXX`. */
export function oneLine(text: string): string {
  return escapeUnsafe(text)
}

/**
 * Free text from the network (a name, a reason, a capability) in double
 * quotes, JSON-style (`"`, `\` and lone surrogates escaped), on one line with
 * every unsafe character as `\uXXXX`: where it starts and ends is plain, and
 * nothing inside it reads as a line of the tool's own.
 */
export function quoted(text: string): string {
  return escapeUnsafe(JSON.stringify(text))
}
