/**
 * Duplicity is evidence only when the key holder really signed both events.
 * The core's log rules confirm a conflicting event on the DID's state just
 * before it (`keyStateBefore`, folded from the stored log), so a forged
 * "conflict" is refused for what it is and nobody can frame a DID.
 * `duplicityViews` is how the API shows what was recorded.
 */
import { foldStoredLog, isoTime, type KeyState } from '../core/index.js'
import type { DuplicityRow, KeyEventsRepo, Store } from '../store/index.js'
import type { DuplicityView } from '../core/views.js'

export type { DuplicityView }

/**
 * A DID's key state just before `seq`, folded from its own stored events (the core confirms duplicity on
 * it); a revocation is never the state before anything, and one by its controller is not the DID's own.
 */
export function keyStateBefore(
  store: { readonly keyEvents: Pick<KeyEventsRepo, 'ownEventsBefore'> },
  did: string,
  seq: number,
): KeyState | undefined {
  return foldStoredLog(store.keyEvents.ownEventsBefore(did, seq))
}

/** The API view of one recorded duplicity. */
export function duplicityView(row: DuplicityRow): DuplicityView {
  return {
    did: row.did,
    seq: row.seq,
    keptId: row.existingId,
    conflictingId: row.conflictingId,
    type: row.envelope.type,
    detectedAt: isoTime(row.detectedAt),
    envelope: row.envelope,
  }
}

/** Every recorded duplicity (or those of one DID), newest first. */
export function duplicityViews(store: Store, did?: string): DuplicityView[] {
  return store.keyEvents.duplicities(did).map(duplicityView)
}
