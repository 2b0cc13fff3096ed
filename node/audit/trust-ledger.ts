/**
 * What one audit entry adds to the trust evidence (SPEC §6, docs/protocol.md
 * §7): the same predicates as the core's `trustFromAuditEntries`,
 * `peerTrustFromAuditEntries` and `connectionTrustFromAuditEntries`, applied
 * entry by entry. The audit log writes these deltas in the transaction of
 * the entry, so the stored evidence is, by construction, what anyone
 * recomputes from an export.
 */
import {
  isAcceptedDeliveredBy,
  isAttributableFailureOf,
  isForgeryDeliveredBy,
  isVerifiedMessageOf,
  type AuditEntry,
} from '../core/index.js'
import type { Store, TrustScope } from '../store/index.js'

/** One change to the evidence about one subject. */
export interface EvidenceDelta {
  readonly scope: TrustScope
  /** DID, delivering peer, or pair key (`pairKey`). */
  readonly key: string
  readonly success: boolean
}

/** The key of the connection between two DIDs: both, sorted, joined by a space. */
export function pairKey(a: string, b: string): string {
  return a <= b ? `${a} ${b}` : `${b} ${a}`
}

function stringField(entry: AuditEntry, name: string): string | undefined {
  const value = (entry.data as Record<string, unknown>)[name]
  return typeof value === 'string' ? value : undefined
}

/**
 * The evidence `entry` adds: a verified message counts for its sender (and
 * for the pair sender–recipient); an attributable failure against the DID it
 * is attributed to (and that pair); a delivered envelope for or against the
 * delivering peer (forgeries only against the peer, never a DID).
 */
export function evidenceOf(entry: AuditEntry): EvidenceDelta[] {
  const out: EvidenceDelta[] = []
  const to = stringField(entry, 'to')
  const subject = entry.subject
  if (subject !== null && isVerifiedMessageOf(entry, subject)) {
    out.push({ scope: 'did', key: subject, success: true })
    if (to !== undefined) out.push({ scope: 'pair', key: pairKey(subject, to), success: true })
  }
  const blamed = stringField(entry, 'attributableTo')
  if (blamed !== undefined && isAttributableFailureOf(entry, blamed)) {
    out.push({ scope: 'did', key: blamed, success: false })
    if (to !== undefined) out.push({ scope: 'pair', key: pairKey(blamed, to), success: false })
  }
  const peer = stringField(entry, 'deliveredBy')
  if (peer !== undefined && isAcceptedDeliveredBy(entry, peer)) out.push({ scope: 'peer', key: peer, success: true })
  if (peer !== undefined && isForgeryDeliveredBy(entry, peer)) out.push({ scope: 'peer', key: peer, success: false })
  return out
}

/** Add what `entry` proves to the store's evidence (call in the entry's transaction). */
export function recordEvidence(store: Store, entry: AuditEntry): void {
  for (const d of evidenceOf(entry)) store.trust.add(d.scope, d.key, d.success ? 1 : 0, d.success ? 0 : 1)
}
