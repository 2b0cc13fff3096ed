/**
 * Key event log rules (docs/protocol.md §4): inception, rotation with pre-rotation, and
 * final revocation. Pure: `applyKeyEvent` takes the DID's current state and
 * one event and returns the next state or throws a `MeshsigError`.
 */
import { didFromPublicKey, publicKeyFromDid } from './did.js'
import { fromB64 } from './encoding.js'
import { MeshsigError, RevokedError } from './errors.js'
import { envelopeId, signingBytes, verifyEnvelopeSignature, type KeyEvent } from './envelope.js'
import { keyCommitment, verifySignature } from './keys.js'

/** What the key event log says about one DID after its last event. */
export interface KeyState {
  /** The DID (did:msig of the inception key). */
  readonly did: string
  /** `seq` of the last accepted event. */
  readonly seq: number
  /** Envelope id of the last accepted event (the next event's `prev`). */
  readonly lastId: string
  /** Current public key, b64. */
  readonly key: string
  /** Commitment to the next key (b64 SHA-256), or null. */
  readonly next: string | null
  /** Keys that were current before, oldest first (b64): signatures under them are ROTATED_KEY. */
  readonly priorKeys: readonly string[]
  /** Set once a `rev` is accepted: revocation is final. */
  readonly revoked: { readonly reason: string; readonly ts: number; readonly by: 'self' | 'controller' } | null
}

/** What `applyKeyEvent` may need beyond the event and the state. */
export interface KelContext {
  /** Envelope id of the DID's accepted event at `seq`, for duplicate and duplicity checks. */
  eventIdAt?: (seq: number) => string | undefined
  /** Keys of the DID's controller (the hosting node) a `rev` may be signed with, current first. */
  controllerKeys?: readonly Uint8Array[]
  /**
   * The DID's state just before `seq` (replayed from the stored log). Given,
   * a different event at a known seq is duplicity only when it is valid on
   * that state: a forged "conflict" fails as what it is (SIGNATURE_INVALID,
   * PRE_ROTATION_MISMATCH, …), so nobody can frame a DID. May throw when it
   * cannot tell; the conflict is then reported as duplicity unconfirmed.
   */
  stateBefore?: (seq: number) => KeyState | undefined
  /** The event's signing bytes and id when the caller has them already (they must be this event's). */
  signed?: { readonly bytes: Uint8Array; readonly id: string }
}

/** The current key of each frozen key state, decoded once (entries go with their states). */
const decodedKeys = new WeakMap<KeyState, Uint8Array>()

/** The key a DID currently signs with: from its state, or the DID itself when no log is known. */
export function currentKeyOf(did: string, state: KeyState | undefined): Uint8Array {
  if (state === undefined) return publicKeyFromDid(did)
  if (state.revoked) throw new RevokedError(did)
  if (!Object.isFrozen(state)) return fromB64(state.key, 'key', 32)
  // a frozen state (the store's cache hands out the same one to every reader) cannot change its key
  let key = decodedKeys.get(state)
  if (key === undefined) decodedKeys.set(state, (key = fromB64(state.key, 'key', 32)))
  return key.slice()
}

/**
 * Apply a conflicting event to the state before it: throws its real error
 * when it is not validly signed there. A conflict is the DID's duplicity only
 * when a key it holds now signed it (docs/protocol.md §6): one signed only by
 * keys it has rotated away from may be a thief's, made after the rotation
 * that retired the key, or a fork the log has moved past; either way it
 * proves nothing now and is old history (`DUPLICATE`: not recorded, nobody
 * charged, not even the honest peers that relay it).
 */
function confirmOnPredecessor(state: KeyState, event: KeyEvent, ctx: KelContext): void {
  let before: KeyState | undefined
  try {
    before = ctx.stateBefore!(event.seq)
  } catch {
    return
  }
  const after = applyKeyEvent(before, event, {})
  // the keys that signed it: the one current before it (`sig`) and the one it leaves current (`sig2` of a rotation)
  const signers = [after.key, before?.key]
  if (!signers.includes(state.key)) {
    throw new MeshsigError('DUPLICATE', `key event ${event.seq} of ${event.did}: a conflict under rotated-out keys`, {
      did: event.did,
    })
  }
}

function conflictOrDuplicate(state: KeyState, event: KeyEvent, ctx: KelContext): never {
  const id = ctx.signed?.id ?? envelopeId(event)
  const existing = event.seq === state.seq ? state.lastId : ctx.eventIdAt?.(event.seq)
  if (existing === id) throw new MeshsigError('DUPLICATE', `key event ${event.seq} of ${event.did} is known`)
  if (ctx.stateBefore) confirmOnPredecessor(state, event, ctx)
  throw new MeshsigError('DUPLICITY', `two different key events at seq ${event.seq} of ${event.did}`, {
    did: event.did,
    seq: event.seq,
    existing: existing ?? null,
    conflicting: id,
  })
}

function applyInception(
  state: KeyState | undefined,
  event: Extract<KeyEvent, { type: 'icp' }>,
  ctx: KelContext,
): KeyState {
  if (state !== undefined) conflictOrDuplicate(state, event, ctx)
  const key = fromB64(event.key, 'key', 32)
  if (didFromPublicKey(key) !== event.did) {
    throw new MeshsigError('KEY_MISMATCH', `inception key does not match ${event.did}`, { did: event.did })
  }
  const bytes = ctx.signed?.bytes ?? signingBytes(event)
  verifyEnvelopeSignature(event, key, 'sig', bytes)
  return {
    did: event.did,
    seq: 0,
    lastId: ctx.signed?.id ?? envelopeId(event),
    key: event.key,
    next: event.next,
    priorKeys: [],
    revoked: null,
  }
}

/**
 * Why a key event of a revoked DID is refused: `REVOKED`, with `signed:
 * false` when the DID's last key did not sign it (junk naming a revoked DID,
 * or a rotation's event under a key this node never took): such a refusal
 * is not audited, so junk cannot grow the audit log (docs/protocol.md §5).
 */
function revokedRefusal(state: KeyState, event: KeyEvent, ctx: KelContext): RevokedError {
  const bytes = ctx.signed?.bytes ?? signingBytes(event)
  const signed = verifySignature(bytes, fromB64(event.sig, 'sig', 64), fromB64(state.key, 'key', 32))
  return new RevokedError(event.did, signed)
}

function checkSequence(state: KeyState | undefined, event: KeyEvent, ctx: KelContext): KeyState {
  if (state === undefined) {
    throw new MeshsigError('UNKNOWN_SIGNER', `no key event log known for ${event.did}`, { did: event.did })
  }
  if (event.seq <= state.seq) conflictOrDuplicate(state, event, ctx)
  if (state.revoked) throw revokedRefusal(state, event, ctx)
  if (event.type !== 'icp' && event.seq !== state.seq + 1) {
    throw new MeshsigError('KEL_INVALID', `key event ${event.seq} of ${event.did} skips events (have ${state.seq})`)
  }
  if (event.type !== 'icp' && event.prev !== state.lastId) {
    throw new MeshsigError('KEL_INVALID', `key event ${event.seq} of ${event.did} does not follow the last event`)
  }
  return state
}

/**
 * Most key events of one DID, its inception included (docs/protocol.md §6):
 * a rotation at a `seq` past it is `KEY_LOG_FULL` on every node, so that a
 * DID's holder cannot grow every node's log without bound. A revocation is
 * always taken.
 */
export const MAX_KEY_EVENTS = 256

function applyRotation(
  prior: KeyState | undefined,
  event: Extract<KeyEvent, { type: 'rot' }>,
  ctx: KelContext,
): KeyState {
  if (event.seq >= MAX_KEY_EVENTS) {
    const why = `a DID's key log holds at most ${MAX_KEY_EVENTS} events: revoke ${event.did} and make a new DID`
    throw new MeshsigError('KEY_LOG_FULL', why, { did: event.did })
  }
  const state = checkSequence(prior, event, ctx)
  const bytes = ctx.signed?.bytes ?? signingBytes(event)
  verifyEnvelopeSignature(event, fromB64(state.key, 'key', 32), 'sig', bytes)
  const newKey = fromB64(event.key, 'key', 32)
  if (state.next !== null && keyCommitment(newKey) !== state.next) {
    throw new MeshsigError('PRE_ROTATION_MISMATCH', `rotation of ${event.did} reveals a key it never committed to`)
  }
  verifyEnvelopeSignature(event, newKey, 'sig2', bytes)
  return {
    ...state,
    seq: event.seq,
    lastId: ctx.signed?.id ?? envelopeId(event),
    key: event.key,
    next: event.next,
    priorKeys: [...state.priorKeys, state.key],
  }
}

/**
 * A revocation by the DID's controller (docs/protocol.md §6) is not an event
 * of the DID's own log: its `seq` and `prev` say where its signer saw the log
 * and are not checked against this node's, so a rotation or a fork that raced
 * it cannot refuse it, and every node ends revoked whichever came first. The
 * DID's own log stays where it stands.
 */
function applyControllerRevocation(state: KeyState, event: Extract<KeyEvent, { type: 'rev' }>): KeyState {
  if (state.revoked) throw new MeshsigError('DUPLICATE', `${event.did} is revoked already`, { did: event.did })
  return { ...state, revoked: { reason: event.reason, ts: event.ts, by: 'controller' } }
}

function applyRevocation(
  prior: KeyState | undefined,
  event: Extract<KeyEvent, { type: 'rev' }>,
  ctx: KelContext,
): KeyState {
  // a revocation of a revoked DID changes nothing, whoever signed it: no signature is checked for it, unless
  // it may be the DID's own second event at the seq of its own revocation (duplicity, §6)
  if (prior?.revoked && (prior.revoked.by === 'controller' || event.seq > prior.seq)) {
    throw new MeshsigError('DUPLICATE', `${event.did} is revoked already`, { did: event.did })
  }
  const bytes = ctx.signed?.bytes ?? signingBytes(event)
  if (prior !== undefined && ctx.controllerKeys?.length) {
    const sig = fromB64(event.sig, 'sig', 64)
    if (ctx.controllerKeys.some((key) => verifySignature(bytes, sig, key)))
      return applyControllerRevocation(prior, event)
  }
  // the DID's own revocation: its next event, signed by its current key
  const state = checkSequence(prior, event, ctx)
  verifyEnvelopeSignature(event, fromB64(state.key, 'key', 32), 'sig', bytes)
  const revoked = { reason: event.reason, ts: event.ts, by: 'self' as const }
  return { ...state, seq: event.seq, lastId: ctx.signed?.id ?? envelopeId(event), revoked }
}

/**
 * Apply one key event to a DID's state and return the new state. Throws
 * `DUPLICATE` (already known), `DUPLICITY` (a different event at a known
 * seq), `KEL_INVALID`, `KEY_LOG_FULL`, `KEY_MISMATCH`, `PRE_ROTATION_MISMATCH`,
 * `SIGNATURE_INVALID`, `UNKNOWN_SIGNER` or `REVOKED`.
 */
export function applyKeyEvent(state: KeyState | undefined, event: KeyEvent, ctx: KelContext = {}): KeyState {
  if (state !== undefined && state.did !== event.did) {
    throw new MeshsigError('KEL_INVALID', `event for ${event.did} applied to the log of ${state.did}`)
  }
  switch (event.type) {
    case 'icp':
      return applyInception(state, event, ctx)
    case 'rot':
      return applyRotation(state, event, ctx)
    case 'rev':
      return applyRevocation(state, event, ctx)
  }
}

/**
 * The state a DID's own stored events lead to (inception and rotations, by
 * seq, with the ids they were stored under), without checking them again:
 * for a log this node verified event by event when it took it. A conflict is
 * confirmed on it (docs/protocol.md §6) at the cost of one pass over the
 * rows, not two signatures per rotation. Undefined for no events.
 */
export function foldStoredLog(
  events: readonly { readonly event: KeyEvent; readonly id: string }[],
): KeyState | undefined {
  let state: KeyState | undefined
  for (const { event: e, id } of events) {
    if (e.type === 'icp') {
      state = { did: e.did, seq: 0, lastId: id, key: e.key, next: e.next, priorKeys: [], revoked: null }
    } else if (e.type === 'rot' && state !== undefined && e.seq === state.seq + 1) {
      state = { ...state, seq: e.seq, lastId: id, key: e.key, next: e.next, priorKeys: [...state.priorKeys, state.key] }
    } else {
      throw new MeshsigError('KEL_INVALID', `stored key event ${e.seq} of ${e.did} does not follow its log`)
    }
  }
  return state
}

/**
 * Replay a whole log: the DID's own events by seq from its inception, then a
 * revocation by its controller wherever it is stored (it is not one of the
 * DID's own events, §6); throws on the first event that breaks a rule.
 */
export function replayKeyEvents(events: readonly KeyEvent[], controllerKey?: Uint8Array): KeyState {
  let state: KeyState | undefined
  const ordered = [...events.filter((e) => e.type !== 'rev'), ...events.filter((e) => e.type === 'rev')]
  const ctx: KelContext = controllerKey ? { controllerKeys: [controllerKey] } : {}
  for (const event of ordered) state = applyKeyEvent(state, event, ctx)
  if (state === undefined) throw new MeshsigError('KEL_INVALID', 'empty key event log')
  return state
}
