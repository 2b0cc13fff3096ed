/**
 * The trust formula (docs/protocol.md §7, docs/protocol.md §7): a Beta reputation over
 * what this node verified, moved only by evidence nobody but a DID's key
 * holder could have produced.
 *
 *     score = (α + s) / (α + β + s + w·f),   0 once the DID is revoked
 *
 * with priors α = β = 1 (a DID nobody has seen scores 0.5) and w = 2.
 *
 * - s, credit: a verified message from a registered DID to another
 *   registered DID earns 2^-(n+1), n = verified messages the sender already
 *   sent to that recipient, for the first `TRUST_CREDIT.perCounterparty` of
 *   them; nothing after, nothing for messages to itself or broadcasts,
 *   nothing for a sender without a registration. A DID's total credit stops
 *   at `TRUST_CREDIT.cap`, so no crowd of agents can pump one another
 *   without bound. Credits are multiples of 2^-perCounterparty: every sum is
 *   exact in floating point, so the store's running totals equal a replay.
 * - f, failures: duplicity (`duplicity`), a checkpoint inconsistent with one
 *   the DID signed before (`checkpoint.inconsistent`). Revocation
 *   (`agent.revoked`) makes the score 0.
 *
 * What a third party can replay or forge (a bad signature, a re-delivered old
 * envelope, a stale time, a rotated-out key) never touches a DID: it counts
 * against the peer or API client that delivered it (`data.deliveredBy`),
 * whose score uses the same formula (s = accepted envelopes it delivered,
 * f = such refusals). Evidence depends on the order of entries, so every
 * score is a replay of the log (`collectTrustEvidence`), and the node's
 * stored evidence applies the same `trustDeltas` entry by entry.
 */
import type { AuditEntry } from './audit-entry.js'
import { MalformedError, codesWhere, type ErrorCode } from './errors.js'
import type { TrustParams } from './views.js'

export type { TrustParams }

/** Refusals that a valid signature stands on: the DID signed once, someone delivered it again or late. */
export const ATTRIBUTABLE_CODES: readonly ErrorCode[] = [...codesWhere((e) => e.blame === 'signed')]

/** Refusals of forged or broken envelopes: they count against the delivering peer, never a DID. */
export const FORGERY_CODES: readonly ErrorCode[] = [...codesWhere((e) => e.blame === 'deliverer')]

/** Limits of message credit (docs/protocol.md §7). */
export const TRUST_CREDIT = {
  /** Messages from one sender to one recipient that earn credit (1/2, 1/4, … of one message). */
  perCounterparty: 8,
  /** Most credit (s) one DID can hold: the score of an agent without failures stays ≤ 9/10. */
  cap: 8,
} as const

/** Counts that a score is computed from. */
export interface TrustEvidence {
  /** s: credit from verified messages (per-DID), or accepted envelopes delivered (per-peer, per-pair). */
  readonly successes: number
  /** f: duplicities and inconsistent checkpoints (per-DID), or refusals delivered (per-peer). */
  readonly failures: number
  /** A revoked DID scores 0. */
  readonly revoked?: boolean
}

/**
 * The formula as text, for reports and exports. A verifier tells by it how
 * the export's connections were scored: `TRUST_FORMULA_V1` counted every
 * message (exports made before decision 0051).
 */
export const TRUST_FORMULA =
  "score = (alpha + s) / (alpha + beta + s + w * f), 0 when revoked; a connection's s is the credit its messages earned"
/** The formula of exports made before decision 0051: a connection's s was its count of verified messages. */
export const TRUST_FORMULA_V1 = 'score = (alpha + s) / (alpha + beta + s + w * f), 0 when revoked'

/** The documented defaults: α = 1, β = 1, w = 2. */
export const DEFAULT_TRUST_PARAMS: TrustParams = { alpha: 1, beta: 1, failureWeight: 2 }

/** Options for scores computed from audit entries. */
export interface TrustOptions {
  /** Formula parameters; defaults `DEFAULT_TRUST_PARAMS`. */
  readonly params?: TrustParams
}

function checkNonNegative(value: number, what: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new MalformedError(`${what} must be a finite number ≥ 0`)
  }
}

/**
 * The score (α + s) / (α + β + s + w·f) in [0, 1], or 0 when revoked. Throws
 * `MalformedError` for negative or non-finite evidence or parameters.
 */
export function trustScore(evidence: TrustEvidence, params: TrustParams = DEFAULT_TRUST_PARAMS): number {
  checkNonNegative(evidence.successes, 'successes')
  checkNonNegative(evidence.failures, 'failures')
  checkNonNegative(params.failureWeight, 'failureWeight')
  if (!(params.alpha > 0) || !(params.beta > 0) || !Number.isFinite(params.alpha + params.beta)) {
    throw new MalformedError('alpha and beta must be finite numbers > 0')
  }
  if (evidence.revoked === true) return 0
  const s = evidence.successes
  const weighted = params.failureWeight * evidence.failures
  const score = (params.alpha + s) / (params.alpha + params.beta + s + weighted)
  return Math.min(1, Math.max(0, score))
}

/**
 * What evidence is about: a DID, a delivering peer, a pair of DIDs (either
 * way: the connection), a sender and recipient (`edgeKey`: credit already
 * earned), or a DID's registration or revocation.
 */
export type TrustScope = 'did' | 'peer' | 'pair' | 'edge' | 'registered' | 'revoked'

/** One change to the evidence about one subject. */
export interface TrustDelta {
  readonly scope: TrustScope
  /** DID, delivering peer (PeerId or "api:<client>"), or pair key (`pairKey`). */
  readonly key: string
  readonly successes: number
  readonly failures: number
}

/** The evidence recorded so far, as `trustDeltas` reads it. */
export interface TrustStateView {
  get(scope: TrustScope, key: string): TrustEvidence
}

/** The key of the connection between two DIDs: both, sorted, joined by a space. */
export function pairKey(a: string, b: string): string {
  return a <= b ? `${a} ${b}` : `${b} ${a}`
}

/** The key of messages from `from` to `to`: both joined by " > ". */
export function edgeKey(from: string, to: string): string {
  return `${from} > ${to}`
}

function field(entry: AuditEntry, name: string): unknown {
  return (entry.data as Record<string, unknown>)[name]
}

function stringField(entry: AuditEntry, name: string): string | undefined {
  const value = field(entry, name)
  return typeof value === 'string' ? value : undefined
}

/** The verified message `entry` records, as sender and recipient (recipient null for a broadcast). */
function verifiedMessage(entry: AuditEntry): { from: string; to: string | null } | undefined {
  if (entry.kind !== 'envelope.accepted' || entry.subject === null || field(entry, 'type') !== 'msg') return undefined
  return { from: entry.subject, to: stringField(entry, 'to') ?? null }
}

/** True when `entry` records a refusal that counts against the peer or client that delivered it. */
export function isDeliveryFault(entry: AuditEntry): boolean {
  if (entry.kind !== 'envelope.rejected' || entry.code === null) return false
  if ((FORGERY_CODES as readonly string[]).includes(entry.code)) return true
  // history pulled by sync is old by nature: a stale or superseded item there is nobody's fault
  return (ATTRIBUTABLE_CODES as readonly string[]).includes(entry.code) && field(entry, 'via') !== 'sync'
}

/** Evidence about the DID itself: a signed conflict, or its end. */
function didFacts(entry: AuditEntry): TrustDelta[] {
  const did = entry.subject
  if (did === null) return []
  switch (entry.kind) {
    case 'agent.registered':
      return [{ scope: 'registered', key: did, successes: 1, failures: 0 }]
    case 'agent.revoked':
      return [{ scope: 'revoked', key: did, successes: 0, failures: 1 }]
    case 'duplicity':
    case 'checkpoint.inconsistent':
      return [{ scope: 'did', key: did, successes: 0, failures: 1 }]
    default:
      return []
  }
}

/**
 * The credit a verified message earns its sender and its connection, given
 * what was recorded before: 2^-(n+1) for the sender's n-th message to that
 * recipient, the first `perCounterparty` only, between two registered DIDs.
 * The sender's total stops at `cap`; the connection's at what its two
 * directions can earn (under 2, a score under 3/4; one direction alone
 * under 2/3). Before decision 0051 a connection counted every message, from
 * anyone, without bound (`TRUST_FORMULA_V1`).
 */
function messageCredit(entry: AuditEntry, state: TrustStateView): TrustDelta[] {
  const m = verifiedMessage(entry)
  if (m === undefined || m.to === null || m.to === m.from) return []
  const edge = edgeKey(m.from, m.to)
  const out: TrustDelta[] = [{ scope: 'edge', key: edge, successes: 1, failures: 0 }]
  const n = state.get('edge', edge).successes
  const registered = (d: string): boolean => state.get('registered', d).successes > 0
  if (n >= TRUST_CREDIT.perCounterparty || !registered(m.from) || !registered(m.to)) return out
  const earned = 2 ** -(n + 1)
  out.push({ scope: 'pair', key: pairKey(m.from, m.to), successes: earned, failures: 0 })
  const credit = Math.min(earned, TRUST_CREDIT.cap - state.get('did', m.from).successes)
  if (credit > 0) out.push({ scope: 'did', key: m.from, successes: credit, failures: 0 })
  return out
}

/**
 * The connection a verified message counted for under `TRUST_FORMULA_V1`
 * (every message to another DID, one success each): kept to verify exports
 * made before decision 0051.
 */
export function legacyPairOf(entry: AuditEntry): string | undefined {
  const m = verifiedMessage(entry)
  return m === undefined || m.to === null || m.to === m.from ? undefined : pairKey(m.from, m.to)
}

/**
 * What one audit entry adds to the evidence, given the evidence recorded by
 * the entries before it (docs/protocol.md §7). Read all of `state` before
 * applying any of the returned deltas.
 */
export function trustDeltas(entry: AuditEntry, state: TrustStateView): TrustDelta[] {
  const out = [...didFacts(entry), ...messageCredit(entry, state)]
  const peer = stringField(entry, 'deliveredBy')
  if (peer !== undefined && entry.kind === 'envelope.accepted')
    out.push({ scope: 'peer', key: peer, successes: 1, failures: 0 })
  if (peer !== undefined && isDeliveryFault(entry)) out.push({ scope: 'peer', key: peer, successes: 0, failures: 1 })
  return out
}

/** Evidence about every subject found in the entries, from one replay. */
export interface TrustLedger {
  /** Per DID: credit and failures (the `revoked` flag set for revoked DIDs). */
  readonly dids: Map<string, TrustEvidence>
  /** Per delivering peer (PeerId or "api:<client>"): accepted envelopes and refusals delivered. */
  readonly peers: Map<string, TrustEvidence>
  /** Per pair of DIDs (`pairKey`): the credit their messages to each other earned. */
  readonly pairs: Map<string, TrustEvidence>
  /** Per pair of DIDs: verified messages between them, as `TRUST_FORMULA_V1` counted them (a verifier's, when asked). */
  readonly pairsV1?: Map<string, TrustEvidence>
}

const ZERO: TrustEvidence = { successes: 0, failures: 0 }

/**
 * Replay entries in log order, by the same `trustDeltas` the node applies as
 * it appends them; with `legacyPairs`, also the connections as
 * `TRUST_FORMULA_V1` counted them (a verifier of older exports needs them,
 * the node never does).
 */
export function collectTrustEvidence(
  entries: readonly AuditEntry[],
  options: { readonly legacyPairs?: boolean } = {},
): TrustLedger {
  const maps = new Map<TrustScope, Map<string, TrustEvidence>>()
  const scope = (s: TrustScope): Map<string, TrustEvidence> => {
    let m = maps.get(s)
    if (m === undefined) maps.set(s, (m = new Map()))
    return m
  }
  const state: TrustStateView = { get: (s, key) => scope(s).get(key) ?? ZERO }
  const pairsV1 = options.legacyPairs === true ? new Map<string, TrustEvidence>() : undefined
  for (const entry of entries) {
    for (const d of trustDeltas(entry, state)) {
      const old = state.get(d.scope, d.key)
      scope(d.scope).set(d.key, { successes: old.successes + d.successes, failures: old.failures + d.failures })
    }
    if (pairsV1 !== undefined) countLegacyPair(pairsV1, entry)
  }
  const dids = scope('did')
  for (const did of scope('revoked').keys()) dids.set(did, { ...(dids.get(did) ?? ZERO), revoked: true })
  return { dids, peers: scope('peer'), pairs: scope('pair'), ...(pairsV1 !== undefined ? { pairsV1 } : {}) }
}

/** Count `entry`'s message for its connection as `TRUST_FORMULA_V1` did. */
export function countLegacyPair(pairsV1: Map<string, TrustEvidence>, entry: AuditEntry): void {
  const key = legacyPairOf(entry)
  if (key === undefined) return
  const old = pairsV1.get(key) ?? ZERO
  pairsV1.set(key, { successes: old.successes + 1, failures: old.failures })
}

/** The evidence about `did` in `entries`: credit, failures, revocation. */
export function trustEvidenceOf(entries: readonly AuditEntry[], did: string): TrustEvidence {
  return collectTrustEvidence(entries).dids.get(did) ?? ZERO
}

/** A DID's trust score, reproduced from audit entries. */
export function trustFromAuditEntries(entries: readonly AuditEntry[], did: string, options: TrustOptions = {}): number {
  return trustScore(trustEvidenceOf(entries, did), options.params)
}

/** The evidence about a delivering peer (PeerId or "api:<client>"): accepted envelopes and refusals. */
export function peerEvidenceOf(entries: readonly AuditEntry[], peer: string): TrustEvidence {
  return collectTrustEvidence(entries).peers.get(peer) ?? ZERO
}

/** A delivering peer's trust score, reproduced from audit entries. */
export function peerTrustFromAuditEntries(
  entries: readonly AuditEntry[],
  peer: string,
  options: TrustOptions = {},
): number {
  return trustScore(peerEvidenceOf(entries, peer), options.params)
}

/** The evidence about the connection between two DIDs: verified messages between them. */
export function connectionEvidenceOf(entries: readonly AuditEntry[], a: string, b: string): TrustEvidence {
  return collectTrustEvidence(entries).pairs.get(pairKey(a, b)) ?? ZERO
}

/** The trust score of the connection between two DIDs, reproduced from audit entries. */
export function connectionTrustFromAuditEntries(
  entries: readonly AuditEntry[],
  a: string,
  b: string,
  options: TrustOptions = {},
): number {
  return trustScore(connectionEvidenceOf(entries, a, b), options.params)
}
