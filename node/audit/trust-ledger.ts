/**
 * What one audit entry adds to the trust evidence (SPEC §6, docs/protocol.md
 * §7): the core's `trustDeltas`, read against the evidence stored so far and
 * applied in the entry's transaction. So the stored evidence is, by
 * construction, what anyone replays from an export with the core's
 * `collectTrustEvidence`.
 */
import {
  collectTrustEvidence,
  pairKey,
  trustDeltas,
  type AuditEntry,
  type TrustDelta,
  type TrustEvidence,
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
