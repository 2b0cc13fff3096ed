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
 * What must not reach a reader raw: control characters (`Cc`: C0, DEL, C1),
 * lone surrogates, line and paragraph separators (U+2028/9), and every format
 * or default-ignorable character (`Cf`, `Default_Ignorable_Code_Point`): the
 * bidirectional controls and marks that reorder a line, the zero-width and
 * invisible characters, fillers, interlinear annotations, and the tag
 * characters and variation selectors that carry text a screen does not show
 * but a model reads (reviews 77 and 79). Two of them make emoji and stay
 * where they do: the zero-width joiner between two pictographs (after a skin
 * tone or U+FE0F too), and U+FE0F right after an emoji character.
 */
const UNSAFE =
  /[\p{Cc}\p{Cs}\u2028\u2029]|(?![\u200d\ufe0f])[\p{Cf}\p{Default_Ignorable_Code_Point}]|(?<![\p{Extended_Pictographic}\p{Emoji_Modifier}\ufe0f])\u200d|\u200d(?!\p{Extended_Pictographic})|(?<!\p{Emoji})\ufe0f/gu

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
