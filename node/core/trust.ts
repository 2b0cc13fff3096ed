/**
 * The trust formula (SPEC §6): a Beta reputation over what this node verified.
 *
 *     score = (α + s) / (α + β + s + w·f)
 *
 * with priors α = β = 1 (a DID nobody has seen scores 0.5), s = verified
 * messages the DID sent, f = failures attributable to the DID (a validly
 * signed envelope that broke a rule: REPLAY, CLOCK_SKEW, ROTATED_KEY), and
 * failure weight w = 2. The score lies in [0, 1], never falls when s grows and
 * always falls when f grows. A forged signature is never held against the
 * DID it names: it counts against the peer or client that delivered it, in a
 * separate per-peer score with the same formula (s = envelopes it delivered
 * that were accepted, f = forgeries it delivered).
 *
 * Everything is computed from audit entries (see `AUDIT_KIND_DOCS` for the
 * fields read), so anyone holding the log reproduces the scores. There is no
 * hidden clock: the optional decay weighs each entry by 2^-(age / halfLife),
 * with age measured from `asOf`, which defaults to the newest entry's `ts`.
 */
import type { AuditEntry } from './audit-entry.js'
import { MalformedError, type ErrorCode } from './errors.js'

/** Rejections that a valid signature of the DID stands on: they count against that DID. */
export const ATTRIBUTABLE_CODES: readonly ErrorCode[] = ['REPLAY', 'CLOCK_SKEW', 'ROTATED_KEY']

/** Rejections of forged or broken envelopes: they count against the delivering peer, never a DID. */
export const FORGERY_CODES: readonly ErrorCode[] = [
  'SIGNATURE_INVALID',
  'KEY_MISMATCH',
  'UNKNOWN_SIGNER',
  'MALFORMED',
  'KEL_INVALID',
  'PRE_ROTATION_MISMATCH',
]

/** Counts (or decayed weights) that a score is computed from. */
export interface TrustEvidence {
  /** s: verified messages sent (per-DID), or accepted envelopes delivered (per-peer). */
  readonly successes: number
  /** f: attributable failures (per-DID), or forgeries delivered (per-peer), before weighting. */
  readonly failures: number
}

/** Parameters of the formula. */
export interface TrustParams {
  /** Prior successes α (> 0). */
  readonly alpha: number
  /** Prior failures β (> 0). */
  readonly beta: number
  /** Weight w of one failure against one success (≥ 0). */
  readonly failureWeight: number
}

/** The documented defaults: α = 1, β = 1, w = 2. */
export const DEFAULT_TRUST_PARAMS: TrustParams = { alpha: 1, beta: 1, failureWeight: 2 }

/** Options for scores computed from audit entries. */
export interface TrustOptions {
  /** Formula parameters; defaults `DEFAULT_TRUST_PARAMS`. */
  readonly params?: TrustParams
  /** Half-life of evidence in ms; omitted means no decay (every entry weighs 1). */
  readonly halfLifeMs?: number
  /** Time decay is measured from, ms; defaults to the newest entry's `ts`. */
  readonly asOf?: number
}

function checkNonNegative(value: number, what: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new MalformedError(`${what} must be a finite number ≥ 0`)
  }
}

/**
 * The score (α + s) / (α + β + s + w·f), in [0, 1]. Throws `MalformedError`
 * for negative or non-finite evidence or parameters.
 */
export function trustScore(evidence: TrustEvidence, params: TrustParams = DEFAULT_TRUST_PARAMS): number {
  checkNonNegative(evidence.successes, 'successes')
  checkNonNegative(evidence.failures, 'failures')
  checkNonNegative(params.failureWeight, 'failureWeight')
  if (!(params.alpha > 0) || !(params.beta > 0) || !Number.isFinite(params.alpha + params.beta)) {
    throw new MalformedError('alpha and beta must be finite numbers > 0')
  }
  const s = evidence.successes
  const weighted = params.failureWeight * evidence.failures
  const score = (params.alpha + s) / (params.alpha + params.beta + s + weighted)
  return Math.min(1, Math.max(0, score))
}

function field(entry: AuditEntry, name: string): unknown {
  return (entry.data as Record<string, unknown>)[name]
}

/** True when `entry` records a verified message sent by `did`. */
export function isVerifiedMessageOf(entry: AuditEntry, did: string): boolean {
  return entry.kind === 'envelope.accepted' && entry.subject === did && field(entry, 'type') === 'msg'
}

/**
 * True when `entry` records a failure attributable to `did`: a rejection the
 * acceptance rules attributed to it, with an attributable code. A rejection
 * with any other code never counts, whatever `attributableTo` says.
 */
export function isAttributableFailureOf(entry: AuditEntry, did: string): boolean {
  return (
    entry.kind === 'envelope.rejected' &&
    field(entry, 'attributableTo') === did &&
    entry.code !== null &&
    (ATTRIBUTABLE_CODES as readonly string[]).includes(entry.code)
  )
}

/** True when `entry` records a forged or broken envelope delivered by `peer`. */
export function isForgeryDeliveredBy(entry: AuditEntry, peer: string): boolean {
  return (
    entry.kind === 'envelope.rejected' &&
    field(entry, 'deliveredBy') === peer &&
    entry.code !== null &&
    (FORGERY_CODES as readonly string[]).includes(entry.code)
  )
}

/** True when `entry` records an accepted envelope delivered by `peer`. */
export function isAcceptedDeliveredBy(entry: AuditEntry, peer: string): boolean {
  return entry.kind === 'envelope.accepted' && field(entry, 'deliveredBy') === peer
}

type Classifier = (entry: AuditEntry) => 'success' | 'failure' | null

/**
 * The weight of entry i: 1 without decay, else 2^-(age / halfLife) with age
 * = max(0, asOf - ts) and asOf defaulting to the newest entry's ts.
 */
function decayWeights(entries: readonly AuditEntry[], options: TrustOptions): (i: number) => number {
  const halfLife = options.halfLifeMs
  if (halfLife === undefined) return () => 1
  if (!(halfLife > 0) || !Number.isFinite(halfLife)) throw new MalformedError('halfLifeMs must be a finite number > 0')
  let asOf = options.asOf ?? -Infinity
  if (options.asOf === undefined) for (const e of entries) asOf = Math.max(asOf, e.ts)
  return (i) => 0.5 ** (Math.max(0, asOf - (entries[i] as AuditEntry).ts) / halfLife)
}

/** Sum the (decayed) weights of the successes and failures `classify` finds. */
function gather(entries: readonly AuditEntry[], classify: Classifier, options: TrustOptions): TrustEvidence {
  const weightOf = decayWeights(entries, options)
  let successes = 0
  let failures = 0
  entries.forEach((entry, i) => {
    const verdict = classify(entry)
    if (verdict === 'success') successes += weightOf(i)
    else if (verdict === 'failure') failures += weightOf(i)
  })
  return { successes, failures }
}

/** The evidence about `did` in `entries`: its verified messages and attributable failures. */
export function trustEvidenceOf(
  entries: readonly AuditEntry[],
  did: string,
  options: TrustOptions = {},
): TrustEvidence {
  return gather(
    entries,
    (e) => (isVerifiedMessageOf(e, did) ? 'success' : isAttributableFailureOf(e, did) ? 'failure' : null),
    options,
  )
}

/** A DID's trust score, reproduced from audit entries. */
export function trustFromAuditEntries(entries: readonly AuditEntry[], did: string, options: TrustOptions = {}): number {
  return trustScore(trustEvidenceOf(entries, did, options), options.params)
}

/** The evidence about a delivering peer (PeerId or "api:<client>"): accepted envelopes and forgeries. */
export function peerEvidenceOf(
  entries: readonly AuditEntry[],
  peer: string,
  options: TrustOptions = {},
): TrustEvidence {
  return gather(
    entries,
    (e) => (isAcceptedDeliveredBy(e, peer) ? 'success' : isForgeryDeliveredBy(e, peer) ? 'failure' : null),
    options,
  )
}

/** A delivering peer's trust score, reproduced from audit entries. */
export function peerTrustFromAuditEntries(
  entries: readonly AuditEntry[],
  peer: string,
  options: TrustOptions = {},
): number {
  return trustScore(peerEvidenceOf(entries, peer, options), options.params)
}

/**
 * The evidence about the connection between two DIDs: verified messages
 * from either to the other, and failures attributable to either on a
 * message addressed to the other (`data.to`).
 */
export function connectionEvidenceOf(
  entries: readonly AuditEntry[],
  a: string,
  b: string,
  options: TrustOptions = {},
): TrustEvidence {
  const classify: Classifier = (e) => {
    const to = field(e, 'to')
    const from = to === b ? a : to === a ? b : null
    if (from === null) return null
    if (isVerifiedMessageOf(e, from)) return 'success'
    return isAttributableFailureOf(e, from) ? 'failure' : null
  }
  return gather(entries, classify, options)
}

/** The trust score of the connection between two DIDs, reproduced from audit entries. */
export function connectionTrustFromAuditEntries(
  entries: readonly AuditEntry[],
  a: string,
  b: string,
  options: TrustOptions = {},
): number {
  return trustScore(connectionEvidenceOf(entries, a, b, options), options.params)
}

/** Evidence about every DID and every delivering peer found in the entries, from one pass. */
export interface TrustLedger {
  /** Per DID: verified messages sent and attributable failures. */
  readonly dids: Map<string, TrustEvidence>
  /** Per delivering peer (PeerId or "api:<client>"): accepted envelopes and forgeries delivered. */
  readonly peers: Map<string, TrustEvidence>
}

function bump(map: Map<string, TrustEvidence>, key: string, success: boolean, weight: number): void {
  const old = map.get(key) ?? { successes: 0, failures: 0 }
  map.set(
    key,
    success
      ? { successes: old.successes + weight, failures: old.failures }
      : { successes: old.successes, failures: old.failures + weight },
  )
}

/**
 * Gather the evidence about every DID and peer in one pass, by the same rules
 * as `trustEvidenceOf` and `peerEvidenceOf` (so `trustScore` of each equals
 * their per-DID and per-peer scores).
 */
export function collectTrustEvidence(entries: readonly AuditEntry[], options: TrustOptions = {}): TrustLedger {
  const dids = new Map<string, TrustEvidence>()
  const peers = new Map<string, TrustEvidence>()
  const weightOf = decayWeights(entries, options)
  entries.forEach((e, i) => {
    const w = weightOf(i)
    const peer = field(e, 'deliveredBy')
    if (e.subject !== null && isVerifiedMessageOf(e, e.subject)) bump(dids, e.subject, true, w)
    const blamed = field(e, 'attributableTo')
    if (typeof blamed === 'string' && isAttributableFailureOf(e, blamed)) bump(dids, blamed, false, w)
    if (typeof peer === 'string' && isAcceptedDeliveredBy(e, peer)) bump(peers, peer, true, w)
    if (typeof peer === 'string' && isForgeryDeliveredBy(e, peer)) bump(peers, peer, false, w)
  })
  return { dids, peers }
}
