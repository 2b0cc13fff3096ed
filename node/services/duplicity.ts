/**
 * Duplicity is evidence only when the key holder really signed both events.
 * The core's log rules call any different event at a known `seq` DUPLICITY
 * before they check its signatures; `confirmDuplicity` replays the stored log
 * up to the event's predecessor and applies the conflicting event to that
 * state, so a forged "conflict" is refused for what it is (SIGNATURE_INVALID,
 * PRE_ROTATION_MISMATCH, …) and nobody can frame a DID with duplicity.
 * `duplicityViews` is how the API shows what was recorded.
 */
import {
  applyKeyEvent,
  currentKeyOf,
  isMeshsigError,
  MeshsigError,
  replayKeyEvents,
  type KeyEvent,
  type KeyState,
  type Rejected,
} from '../core/index.js'
import type { DuplicityRow, Store } from '../store/index.js'

/** A recorded duplicity as the API shows it (`GET /duplicity`, `GET /agents/:did`). */
export interface DuplicityView {
  readonly did: string
  readonly seq: number
  /** Id of the event this node accepted first and keeps. */
  readonly keptId: string | null
  /** Id of the conflicting event it refused. */
  readonly conflictingId: string
  /** Type of the conflicting event (icp, rot, rev). */
  readonly type: KeyEvent['type']
  readonly detectedAt: string
  /** The conflicting event itself: anyone can check that the DID's key signed it. */
  readonly envelope: KeyEvent
}

function controllerKeyOf(store: Store, did: string): Uint8Array | undefined {
  const controller = store.agents.get(did)?.controller
  if (controller === undefined) return undefined
  try {
    return currentKeyOf(controller, store.keyEvents.state(controller))
  } catch {
    return undefined
  }
}

function stateBefore(store: Store, event: KeyEvent): KeyState | undefined {
  const prefix = store.keyEvents.log(event.did).filter((e) => e.seq < event.seq)
  return prefix.length === 0 ? undefined : replayKeyEvents(prefix)
}

/**
 * Given a DUPLICITY verdict, return it when the conflicting event is validly
 * signed on top of the log before it, else the rejection it really deserves
 * (not attributable to the DID: a forgery proves nothing about it).
 */
export function confirmDuplicity(store: Store, v: Rejected): Rejected {
  const event = v.envelope as KeyEvent | undefined
  if (event === undefined || !['icp', 'rot', 'rev'].includes(event.type)) return v
  let before: KeyState | undefined
  try {
    before = stateBefore(store, event)
  } catch {
    return v
  }
  try {
    const controllerKey = event.type === 'rev' ? controllerKeyOf(store, event.did) : undefined
    applyKeyEvent(before, event, controllerKey ? { controllerKey } : {})
    return v
  } catch (err) {
    const error = isMeshsigError(err) ? err : new MeshsigError('SIGNATURE_INVALID', String(err))
    return { ok: false, error, ...(v.id !== undefined ? { id: v.id } : {}), envelope: event }
  }
}

/** The API view of one recorded duplicity. */
export function duplicityView(row: DuplicityRow): DuplicityView {
  return {
    did: row.did,
    seq: row.seq,
    keptId: row.existingId,
    conflictingId: row.conflictingId,
    type: row.envelope.type,
    detectedAt: new Date(row.detectedAt).toISOString(),
    envelope: row.envelope,
  }
}

/** Every recorded duplicity (or those of one DID), newest first. */
export function duplicityViews(store: Store, did?: string): DuplicityView[] {
  return store.keyEvents.duplicities(did).map(duplicityView)
}
