/**
 * Two checkpoints of one log at one size with different roots (docs/audit.md,
 * "Split views"). Both `chk` envelopes are signed by the origin's current key,
 * so the pair is evidence only that key could make (SPEC §6): it is recorded as
 * `checkpoint.inconsistent` against the origin, whoever delivered them. One
 * signed by a key the origin has since rotated away from is evidence against
 * nobody (decision 0073): that key may be the leaked one it rotated away from.
 * Checkpoints of different sizes need a consistency proof to be judged; the
 * witness protocol does that for the log's signed notes (witness-service.ts).
 *
 * A `chk` and a note the node cosigned as a witness are the DID's two signed
 * statements of its log (decision 0079): the `chk` under its identity key, the
 * note under the log key its identity key bound. At one size with two roots
 * they are a split view too, recorded once per log (`witness.proven.chk-note.`),
 * whichever of the two this node met first.
 */
import { envelopeId, verifyEnvelopeSignature, type ChkEnvelope } from '../core/index.js'
import { bindingVerifiers, verifyLogKeyBinding, type LogKeyBinding } from '../core/log-key-binding.js'
import { parseCheckpointText, parseNote, verifyNote } from '../core/note.js'
import { toB64 } from '../core/encoding.js'
import type { AuditEntriesRepo, MiscRepo, Store } from '../store/index.js'
import type { AuditService } from '../audit/audit-service.js'
import type { NodeEvents } from '../events.js'
import { heldLog, heldLogBinding } from './witness-logs.js'
import type { AuditRecord } from './audit-records.js'

/** A checkpoint that contradicts one kept before: the earlier one's id, at `size`. */
export interface SplitView {
  readonly origin: string
  readonly earlierId: string
  readonly size: number
}

/**
 * The split view `chk` makes with a checkpoint this node keeps: another
 * node's, or its own when `chk` names this node (someone else holds its key).
 * `currentKey` is the origin's key now, the one `chk` was taken under: a kept
 * checkpoint it did not sign makes no split view (docs/audit.md, decision 0073).
 * Kept checkpoints of another node are dropped when it rotates, so this
 * costs one signature check, only when the roots differ.
 */
export function splitViewOf(
  chk: ChkEnvelope,
  kept: Pick<AuditEntriesRepo, 'conflictingRemoteCheckpoint' | 'checkpointAt'>,
  nodeDid: string,
  currentKey: Uint8Array,
): SplitView | undefined {
  let earlier = kept.conflictingRemoteCheckpoint(chk.origin, chk.size, chk.root)
  const own = chk.origin === nodeDid && earlier === undefined ? kept.checkpointAt(chk.size) : undefined
  if (own !== undefined) {
    const mine = JSON.parse(own) as ChkEnvelope
    if (mine.root !== chk.root) earlier = { id: envelopeId(mine), envelope: own }
  }
  if (earlier === undefined || !signedBy(earlier.envelope, currentKey)) return undefined
  return { origin: chk.origin, earlierId: earlier.id, size: chk.size }
}

/**
 * The metadata row marking that the split view of `origin`'s log at `size`,
 * under its identity key `key`, is recorded: once, whatever the roots and
 * however often its checkpoints come again (review 124: a relay replaying the
 * origin's old checkpoints past the kept 256 had each pair counted anew).
 */
export function chkSplitMark(origin: string, size: number, key: Uint8Array): string {
  return `checkpoint.split.${origin}.${size}.${toB64(key)}`
}

/**
 * `s` if it is the first split view of its log at its size under `key`, the
 * origin's key now, marked here in the caller's transaction; else undefined
 * (recorded already: evidence the origin made once counts once, SPEC §6).
 */
export function firstSplitView(
  misc: Pick<MiscRepo, 'meta' | 'setMetaValue'>,
  s: SplitView | undefined,
  key: Uint8Array,
  now: number,
): SplitView | undefined {
  if (s === undefined) return undefined
  const mark = chkSplitMark(s.origin, s.size, key)
  if (misc.meta(mark) !== undefined) return undefined
  misc.setMetaValue(mark, String(now))
  return s
}

/** True when the checkpoint kept as JSON text `envelope` verifies under `key`. */
export function signedBy(envelope: string, key: Uint8Array): boolean {
  try {
    verifyEnvelopeSignature(JSON.parse(envelope) as ChkEnvelope, key)
    return true
  } catch {
    return false
  }
}

/** The audit entry of a split view found among `chk` envelopes (docs/audit.md `checkpoint.inconsistent`). */
export function splitViewRecord(s: SplitView, laterId: string): AuditRecord {
  return {
    kind: 'checkpoint.inconsistent',
    subject: s.origin,
    envelopeId: laterId,
    code: null,
    data: { reason: 'split-view', earlierId: s.earlierId, size: s.size },
  }
}

/** A `chk` and a log-signed note of one origin at one size with two roots (decision 0079). */
export interface NoteSplitView {
  readonly origin: string
  readonly size: number
  /** The envelope id of the `chk`. */
  readonly chkId: string
  /** The note as the log signed it (its signature line only). */
  readonly note: string
}

/** The metadata row marking that a log's `chk`/note split view is recorded (once per log). */
export function noteSplitMark(origin: string): string {
  return `witness.proven.chk-note.${origin}`
}

/**
 * A kept `chk` of `origin` at `size` whose root is not `root` (b64) and that
 * verifies under `currentKey`, the origin's key now (decision 0073): what a
 * witness checks before it cosigns a note of that size (docs/audit.md).
 * One read; one signature check only when the roots differ.
 */
export function chkContradicting(
  kept: Pick<AuditEntriesRepo, 'conflictingRemoteCheckpoint'>,
  at: { readonly origin: string; readonly size: number; readonly root: string },
  currentKey: Uint8Array,
): { readonly id: string; readonly envelope: string } | undefined {
  const earlier = kept.conflictingRemoteCheckpoint(at.origin, at.size, at.root)
  return earlier !== undefined && signedBy(earlier.envelope, currentKey) ? earlier : undefined
}

/**
 * The note a witness cosigned for `chk.origin` (`held`, with the log's
 * binding) when it has `chk`'s size and another root, and both the binding
 * (under `currentKey`, the origin's key now) and the note's log signature
 * check out; else undefined.
 */
export function heldNoteContradicting(
  chk: ChkEnvelope,
  held: { readonly note: string } | undefined,
  binding: LogKeyBinding | undefined,
  currentKey: Uint8Array,
): string | undefined {
  if (held === undefined || binding === undefined) return undefined
  try {
    const { size, root, origin } = parseCheckpointText(parseNote(held.note).text)
    if (origin !== chk.origin || size !== chk.size || toB64(root) === chk.root) return undefined
    const b = verifyLogKeyBinding(binding, currentKey)
    if (b.did !== chk.origin) return undefined
    verifyNote(held.note, [bindingVerifiers(b).log])
    return held.note
  } catch {
    return undefined // a binding its DID rotated away from, or a note that does not verify: evidence of nothing
  }
}

/** The audit entry of a `chk`/note split view (docs/audit.md `checkpoint.inconsistent`). */
export function noteSplitViewRecord(s: NoteSplitView): AuditRecord {
  return {
    kind: 'checkpoint.inconsistent',
    subject: s.origin,
    envelopeId: s.chkId,
    code: null,
    data: { reason: 'split-view', size: s.size, note: s.note },
  }
}

/**
 * The split view `got.chk` makes with the note this node cosigned last for
 * its origin as a witness (same size, another root), the first one of that
 * log only: marked here, in the caller's transaction (decision 0079).
 */
export function noteSplitOf(
  misc: Pick<MiscRepo, 'meta' | 'setMetaValue'>,
  got: { readonly chk: ChkEnvelope; readonly id: string },
  currentKey: Uint8Array,
  now: number,
): NoteSplitView | undefined {
  const { chk, id } = got
  if (misc.meta(noteSplitMark(chk.origin)) !== undefined) return undefined
  const held = heldLog(misc, chk.origin)
  const note = heldNoteContradicting(chk, held, heldLogBinding(misc, chk.origin), currentKey)
  if (note === undefined) return undefined
  misc.setMetaValue(noteSplitMark(chk.origin), String(now))
  return { origin: chk.origin, size: chk.size, chkId: id, note }
}

/** Record a `chk`/note split view a witness found, once per log: an audit entry against the origin and an event. */
export function recordNoteSplit(
  c: {
    readonly store: Pick<Store, 'misc' | 'transaction'>
    readonly audit: Pick<AuditService, 'record'>
    readonly events: Pick<NodeEvents, 'emit'>
    readonly clock: () => number
    readonly nodeDid: () => string
  },
  s: NoteSplitView,
): void {
  const { misc } = c.store
  if (misc.meta(noteSplitMark(s.origin)) !== undefined) return
  c.store.transaction(() => {
    misc.setMetaValue(noteSplitMark(s.origin), String(c.clock()))
    c.audit.record(noteSplitViewRecord(s))
  })
  c.events.emit('audit:inconsistent', { origin: s.origin, kind: 'split-view', reportedBy: c.nodeDid(), chkId: s.chkId })
}
