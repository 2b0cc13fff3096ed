/**
 * Two checkpoints of one log at one size with different roots (docs/audit.md,
 * "Split views"). Both `chk` envelopes are signed by the origin's key, so the pair is
 * evidence only that key could make (SPEC §6): it is recorded as
 * `checkpoint.inconsistent` against the origin, whoever delivered them.
 * Checkpoints of different sizes need a consistency proof to be judged; the
 * witness protocol does that for the log's signed notes (witness-service.ts).
 */
import { envelopeId, type ChkEnvelope } from '../core/index.js'
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
 */
export function splitViewOf(
  chk: ChkEnvelope,
  kept: Pick<AuditEntriesRepo, 'conflictingRemoteCheckpoint' | 'checkpointAt'>,
  nodeDid: string,
): SplitView | undefined {
  let earlierId = kept.conflictingRemoteCheckpoint(chk.origin, chk.size, chk.root)
  const own = chk.origin === nodeDid ? kept.checkpointAt(chk.size) : undefined
  if (earlierId === undefined && own !== undefined) {
    const mine = JSON.parse(own) as ChkEnvelope
    if (mine.root !== chk.root) earlierId = envelopeId(mine)
  }
  return earlierId === undefined ? undefined : { origin: chk.origin, earlierId, size: chk.size }
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
