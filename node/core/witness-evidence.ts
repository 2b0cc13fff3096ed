/**
 * Evidence that a log signed checkpoints that cannot both be honest
 * (docs/audit.md "Split views, rewrites and evidence"), pure: the form it is
 * kept in, and the check a peer runs before it believes a split view it
 * did not see itself. A split view is self-proving — two notes under one
 * log key, one origin, one size, two roots — so anyone holding the log's
 * vkey can check it. A rewrite (two sizes whose trees do not extend each
 * other) is not: the two notes alone never contradict each other.
 */
import { toB64 } from './encoding.js'
import { MalformedError } from './errors.js'
import { parseCheckpointText, parseNote, verifyNote, type CheckpointBody, type NoteVerifier } from './note.js'

function checkpointOf(note: string): CheckpointBody {
  return parseCheckpointText(parseNote(note).text)
}

/**
 * `note` as its log signed it: the checkpoint text and the first signature
 * line of `log`, without any other line (cosignatures, lines of keys nobody
 * knows, which signed-note ignores). So evidence kept from a note is a few
 * hundred bytes whatever the note was padded with. Throws `MALFORMED` when
 * the note carries no line of `log`; the line itself is not checked here.
 */
export function logSignedNote(note: string, log: NoteVerifier): string {
  const { text, signatures } = parseNote(note)
  const line = signatures.find((s) => s.name === log.name && s.keyId === log.keyId)
  if (line === undefined) throw new MalformedError('the note carries no signature line of the log')
  return `${text}\n${line.line}`
}

/**
 * Check split-view evidence: both notes are checkpoints of one origin and
 * one size with different roots, each signed by `log` (the origin's log key).
 * Returns the origin; throws `MALFORMED` when the evidence proves nothing.
 */
export function checkSplitView(earlier: string, later: string, log: NoteVerifier): string {
  const [a, b] = [checkpointOf(earlier), checkpointOf(later)]
  if (a.origin !== b.origin) throw new MalformedError('the two checkpoints name different origins')
  if (a.origin !== log.name) throw new MalformedError('the checkpoints are not of the log whose key was given')
  if (a.size !== b.size) throw new MalformedError('a split view is two roots for one size')
  if (toB64(a.root) === toB64(b.root)) throw new MalformedError('the two checkpoints have the same root')
  verifyNote(earlier, [log])
  verifyNote(later, [log])
  return a.origin
}
