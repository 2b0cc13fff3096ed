/**
 * The acceptance rules of docs/protocol.md §4, in one place. The API path, the gossip
 * validator and sync all call `acceptEnvelope`; it reads state only through
 * the `AcceptanceContext` the caller passes, so it stays pure.
 */
import { currentKeyOf, applyKeyEvent, type KeyState } from './kel.js'
import { idOfSigningBytes, parseEnvelope, signingBytes, verifyEnvelopeSignature, type Envelope } from './envelope.js'
import { ClockSkewError, MeshsigError, ReplayError, RevokedError, isMeshsigError } from './errors.js'
import { fromB64 } from './encoding.js'
import { verifySignature } from './keys.js'
import { ATTRIBUTABLE_CODES } from './trust.js'

/**
 * Keys a DID held before its current one that a signature is tried under, newest first: a message under an
 * older key is `SIGNATURE_INVALID` rather than `ROTATED_KEY`, and a forgery naming a DID that rotated 255
 * times costs at most this many checks more, not 255 (docs/protocol.md §5).
 */
export const PRIOR_KEYS_TRIED = 8

/** Default freshness window for `msg` envelopes: ±5 minutes. */
export const DEFAULT_MAX_SKEW_MS = 5 * 60 * 1000

/** Read-only view of node state that acceptance needs. */
export interface AcceptanceContext {
  /** Receiver's clock, ms since the epoch. */
  readonly now: number
  /** Freshness window for `msg`, in ms. */
  readonly maxSkewMs: number
  /** Key state of a DID, or undefined when no key event log is known. */
  keyState(did: string): KeyState | undefined
  /** The DID of the node hosting `did` (from its registration), if known. */
  controllerOf(did: string): string | undefined
  /** True when this `(from, nonce)` was already accepted inside the window. */
  nonceSeen(from: string, nonce: string): boolean
  /**
   * True when an envelope with this id is already stored. `type` is the
   * envelope's: ids of different types never collide (the type is in the
   * signing input, docs/protocol.md §4), so a store looks where that type is kept.
   */
  hasEnvelope(id: string, type: Envelope['type']): boolean
  /** Envelope id of a DID's key event at `seq`, if stored. */
  eventIdAt(did: string, seq: number): string | undefined
  /** A DID's key state just before `seq`, replayed from the stored log (confirms duplicity; may throw). */
  keyStateBefore?(did: string, seq: number): KeyState | undefined
}

/** An accepted envelope, with its id and (for key events) the DID's new key state. */
export interface Accepted {
  readonly ok: true
  readonly envelope: Envelope
  readonly id: string
  readonly keyState?: KeyState
}

/**
 * A refused envelope. `attributableTo` names the DID whose valid signature
 * stands on the envelope (replay, stale time, rotated-out key): only such
 * evidence may count against a DID's trust. Forgeries attribute to nobody.
 */
export interface Rejected {
  readonly ok: false
  readonly error: MeshsigError
  readonly id?: string
  readonly envelope?: Envelope
  readonly attributableTo?: string
}

/** The verdict of `acceptEnvelope`. */
export type Verdict = Accepted | Rejected

/** Options for one acceptance check. */
export interface AcceptOptions {
  /** Apply freshness (clock window and replay cache) to `msg`: true when first received. */
  readonly fresh: boolean
}

function signerOf(envelope: Envelope): string {
  switch (envelope.type) {
    case 'msg':
      return envelope.from
    case 'chk':
      return envelope.origin
    default:
      return envelope.did
  }
}

/**
 * Verify `sig` under the DID's current key; say ROTATED_KEY when an older key
 * made it. A revoked DID's envelope is REVOKED either way; `signed: false`
 * when its last key did not make it: junk naming a revoked DID, an envelope
 * under an older key, or under the key of a rotation this node refused
 * because it came after the revocation (decision 0044). The node does not
 * audit those: junk costs one signature check and no storage
 * (docs/protocol.md §5).
 */
function checkCurrentKey(envelope: Envelope, did: string, ctx: AcceptanceContext, bytes: Uint8Array): void {
  const state = ctx.keyState(did)
  const key = state?.revoked ? fromB64(state.key, 'key', 32) : currentKeyOf(did, state)
  try {
    verifyEnvelopeSignature(envelope, key, 'sig', bytes)
  } catch (err) {
    const signature = fromB64(envelope.sig, 'sig', 64)
    // a revoked DID's last key only: anything else of it is refused alike, unaudited, for one check
    if (state?.revoked) throw new RevokedError(did, false)
    const tried = state?.priorKeys.slice(-PRIOR_KEYS_TRIED)
    const old = tried?.find((k) => verifySignature(bytes, signature, fromB64(k, 'key', 32)))
    if (old === undefined) throw err
    throw new MeshsigError('ROTATED_KEY', `signed with a rotated-out key of ${did}`, { did })
  }
  if (state?.revoked) throw new RevokedError(did)
}

function checkFreshness(envelope: Extract<Envelope, { type: 'msg' }>, ctx: AcceptanceContext): void {
  const skew = envelope.ts - ctx.now
  if (Math.abs(skew) > ctx.maxSkewMs) {
    throw new ClockSkewError(`message time is ${Math.round(skew / 1000)} s from this node's clock`, {
      skewMs: skew,
      maxSkewMs: ctx.maxSkewMs,
    })
  }
  if (ctx.nonceSeen(envelope.from, envelope.nonce)) {
    throw new ReplayError(`nonce already used by ${envelope.from}`, { from: envelope.from })
  }
}

function checkNotRevoked(did: string | null, ctx: AcceptanceContext): void {
  if (did !== null && ctx.keyState(did)?.revoked) throw new RevokedError(did)
}

/**
 * Every key a revocation by the DID's controller may be signed with (docs/protocol.md §6, decision 0044):
 * the controller's current key and the keys it held before, newest first (`PRIOR_KEYS_TRIED` of them), the
 * last ones of a revoked controller too; the key its DID names while its log is unknown here. A revocation
 * only takes authority away, so one signed before the controller rotated or retired its own key stays good.
 * None when the DID names no controller but itself. What none of them signed is a forgery, charged to its
 * deliverer: junk must cost its sender its standing, or a peer could make the node check it without end.
 * With no registration of the DID here there is no controller to ask (`controllerUnknownError`): ingest then
 * lets each peer deliver one such revocation of a DID uncharged (decision 0069).
 */
function controllerKeysOf(did: string, ctx: AcceptanceContext): Uint8Array[] {
  const controller = ctx.controllerOf(did)
  if (controller === undefined || controller === did) return []
  const state = ctx.keyState(controller)
  if (state === undefined) return [currentKeyOf(controller, undefined)]
  return [state.key, ...state.priorKeys.slice(-PRIOR_KEYS_TRIED).reverse()].map((k) => fromB64(k, 'key', 32))
}

/**
 * Why a revocation of `did` that its own key did not sign is refused where no registration of `did` is held
 * (docs/protocol.md §6, decision 0069): it may be its controller's, and this node does not know the
 * controller. The refusal rests on this node's state, not on the revocation (`UNKNOWN_SIGNER`, detail
 * `controller: "unknown"`): no deliverer is charged for it, and it is checked again once a registration of
 * `did` arrives. A registration that names `did` itself as controller is known: then it is a forgery.
 */
function controllerUnknownError(did: string): MeshsigError {
  const why = `${did}'s own key did not sign this revocation, and no registration of ${did} here names the controller that may have`
  return new MeshsigError('UNKNOWN_SIGNER', why, { did, controller: 'unknown' })
}

/** The DID of a revocation refused because its controller is not known here (`controllerUnknownError`), if `v` is one. */
export function controllerUnknown(v: Rejected): string | undefined {
  const e = v.envelope
  if (v.error.code !== 'UNKNOWN_SIGNER' || e?.type !== 'rev' || v.error.details?.controller !== 'unknown')
    return undefined
  return e.did
}

function acceptKeyEvent(
  envelope: Envelope & { type: 'icp' | 'rot' | 'rev' },
  ctx: AcceptanceContext,
  signed: { bytes: Uint8Array; id: string },
): KeyState {
  try {
    return applyKeyEvent(ctx.keyState(envelope.did), envelope, {
      eventIdAt: (seq) => ctx.eventIdAt(envelope.did, seq),
      signed,
      ...(ctx.keyStateBefore ? { stateBefore: (seq: number) => ctx.keyStateBefore!(envelope.did, seq) } : {}),
      controllerKeys: envelope.type === 'rev' ? controllerKeysOf(envelope.did, ctx) : [],
    })
  } catch (err) {
    const forged = isMeshsigError(err) && err.code === 'SIGNATURE_INVALID'
    if (forged && envelope.type === 'rev' && ctx.controllerOf(envelope.did) === undefined)
      throw controllerUnknownError(envelope.did)
    throw err
  }
}

/** Run every rule on an already parsed envelope with its signing bytes; throws the first broken rule. */
function check(
  envelope: Envelope,
  id: string,
  bytes: Uint8Array,
  ctx: AcceptanceContext,
  opts: AcceptOptions,
): KeyState | undefined {
  if (envelope.type === 'icp' || envelope.type === 'rot' || envelope.type === 'rev') {
    return acceptKeyEvent(envelope, ctx, { bytes, id })
  }
  if (ctx.hasEnvelope(id, envelope.type)) throw new MeshsigError('DUPLICATE', `envelope ${id} is already stored`)
  const signer = signerOf(envelope)
  checkCurrentKey(envelope, signer, ctx, bytes)
  if (envelope.type === 'msg') {
    checkNotRevoked(envelope.to, ctx)
    if (opts.fresh) checkFreshness(envelope, ctx)
  }
  return undefined
}

/**
 * Decide whether an envelope from anywhere (API, gossip, sync) is accepted.
 * Never throws: a bad envelope is a `Rejected` verdict with a typed error.
 */
export function acceptEnvelope(input: unknown, ctx: AcceptanceContext, opts: AcceptOptions): Verdict {
  let envelope: Envelope
  try {
    envelope = parseEnvelope(input)
  } catch (err) {
    return { ok: false, error: asMeshsigError(err) }
  }
  let bytes: Uint8Array
  try {
    bytes = signingBytes(envelope)
  } catch (err) {
    return { ok: false, error: asMeshsigError(err) }
  }
  const id = idOfSigningBytes(bytes)
  try {
    const keyState = check(envelope, id, bytes, ctx, opts)
    return keyState ? { ok: true, envelope, id, keyState } : { ok: true, envelope, id }
  } catch (err) {
    const error = asMeshsigError(err)
    const attributable = (ATTRIBUTABLE_CODES as readonly string[]).includes(error.code)
    return attributable
      ? { ok: false, error, id, envelope, attributableTo: signerOf(envelope) }
      : { ok: false, error, id, envelope }
  }
}

function asMeshsigError(err: unknown): MeshsigError {
  if (isMeshsigError(err)) return err
  return new MeshsigError('INTERNAL', err instanceof Error ? err.message : String(err))
}

/** The DID whose key must have signed an envelope (sender, subject or origin). */
export { signerOf }
