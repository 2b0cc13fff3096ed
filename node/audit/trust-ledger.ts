/**
 * What one audit entry adds to the trust evidence (docs/protocol.md §7, docs/protocol.md
 * §7): the core's `trustDeltas`, read against the evidence stored so far and
 * applied in the entry's transaction. So the stored evidence is, by
 * construction, what anyone replays from an export with the core's
 * `collectTrustEvidence`.
 */
import {
  collectTrustEvidence,
  countLegacyPair,
  pairKey,
  trustDeltas,
  type AuditEntry,
  type TrustDelta,
  type TrustEvidence,
  type TrustLedger,
  type TrustScope,
  type TrustStateView,
} from '../core/index.js'
import type { Store } from '../store/index.js'

export { pairKey }

/** The deltas `entry` adds to the evidence held in `store`. */
export function evidenceOf(store: Store, entry: AuditEntry): TrustDelta[] {
  return trustDeltas(entry, { get: (scope, key) => store.trust.get(scope, key) })
}

/** Add what `entry` proves to the store's evidence (call in the entry's transaction). */
export function recordEvidence(store: Store, entry: AuditEntry): void {
  for (const d of evidenceOf(store, entry)) store.trust.add(d.scope, d.key, d.successes, d.failures)
}

/** The evidence of a log prefix, replayed from its entries (what the store held at that size). */
export function evidenceTotals(entries: readonly AuditEntry[]): {
  did: Map<string, TrustEvidence>
  peer: Map<string, TrustEvidence>
  pair: Map<string, TrustEvidence>
} {
  const ledger = collectTrustEvidence(entries)
  return { did: ledger.dids, peer: ledger.peers, pair: ledger.pairs }
}

/**
 * `collectTrustEvidence`, one entry at a time: the evidence of a log read as
 * a stream (the NDJSON export and its verifier), in memory that grows with
 * the subjects (DIDs, peers, pairs), not with the entries.
 */
export class TrustTally {
  readonly #maps = new Map<TrustScope, Map<string, TrustEvidence>>()
  readonly #state: TrustStateView = { get: (s, key) => this.#scope(s).get(key) ?? ZERO }
  /** The connections as `TRUST_FORMULA_V1` counted them, kept only for a verifier (`legacyPairs`). */
  readonly #pairsV1: Map<string, TrustEvidence> | undefined

  constructor(options: { readonly legacyPairs?: boolean } = {}) {
    this.#pairsV1 = options.legacyPairs === true ? new Map() : undefined
  }

  #scope(s: TrustScope): Map<string, TrustEvidence> {
    let m = this.#maps.get(s)
    if (m === undefined) this.#maps.set(s, (m = new Map()))
    return m
  }

  /** Add what `entry` proves. */
  add(entry: AuditEntry): void {
    for (const d of trustDeltas(entry, this.#state)) {
      const old = this.#state.get(d.scope, d.key)
      this.#scope(d.scope).set(d.key, { successes: old.successes + d.successes, failures: old.failures + d.failures })
    }
    if (this.#pairsV1 !== undefined) countLegacyPair(this.#pairsV1, entry)
  }

  /** The evidence so far, as `collectTrustEvidence` gives it (revoked DIDs flagged). */
  ledger(): TrustLedger {
    const dids = new Map(this.#scope('did'))
    for (const did of this.#scope('revoked').keys()) dids.set(did, { ...(dids.get(did) ?? ZERO), revoked: true })
    const pairsV1 = this.#pairsV1
    return {
      dids,
      peers: this.#scope('peer'),
      pairs: this.#scope('pair'),
      ...(pairsV1 !== undefined ? { pairsV1 } : {}),
    }
  }
}

const ZERO: TrustEvidence = { successes: 0, failures: 0 }
