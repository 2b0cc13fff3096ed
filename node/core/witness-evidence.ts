/**
 * Evidence that a log signed checkpoints that cannot both be honest
 * (docs/audit.md "Split views, rewrites and evidence"), pure: its stable
 * identity, and the check a peer runs before it believes a split view it
 * did not see itself. A split view is self-proving — two notes under one
 * log key, one origin, one size, two roots — so anyone holding the log's
 * vkey can check it. A rewrite (two sizes whose trees do not extend each
 * other) is not: the two notes alone never contradict each other.
 */
import { toB64 } from './encoding.js'
import { MalformedError } from './errors.js'
import { parseCheckpointText, parseNote, verifyNote, type CheckpointBody, type NoteVerifier } from './note.js'

/** The kinds of evidence a witness records. */
export type EvidenceKind = 'split-view' | 'rewrite'

function checkpointOf(note: string): CheckpointBody {
  return parseCheckpointText(parseNote(note).text)
}

/**
 * A stable identity of a piece of evidence: its kind, the origin and the
 * (size, root) both notes sign — not the note texts, which differ by the
 * cosignatures they carry. A split view is the same evidence in either order.
 */
export function evidenceKey(kind: EvidenceKind, earlier: string, later: string): string {
  const [a, b] = [checkpointOf(earlier), checkpointOf(later)]
  const points = [a, b].map((c) => `${c.size} ${toB64(c.root)}`)
  if (kind === 'split-view') points.sort()
  return [kind, a.origin, ...points].join('\n')
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
