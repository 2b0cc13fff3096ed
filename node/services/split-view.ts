/**
 * Two checkpoints of one log at one size with different roots (docs/audit.md,
 * "Split views"). Both `chk` envelopes are signed by the origin's current key,
 * so the pair is evidence only that key could make (SPEC §6): it is recorded as
 * `checkpoint.inconsistent` against the origin, whoever delivered them. One
 * signed by a key the origin has since rotated away from is evidence against
 * nobody (decision 0073): that key may be the leaked one it rotated away from.
 * Checkpoints of different sizes need a consistency proof to be judged; the
 * witness protocol does that for the log's signed notes (witness-service.ts).
 */
import { envelopeId, verifyEnvelopeSignature, type ChkEnvelope } from '../core/index.js'
import type { AuditEntriesRepo } from '../store/index.js'
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

/** True when the checkpoint kept as JSON text `envelope` verifies under `key`. */
function signedBy(envelope: string, key: Uint8Array): boolean {
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
