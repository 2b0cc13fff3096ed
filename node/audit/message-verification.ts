/**
 * How each stored message was verified, reproduced from the audit log: the
 * entry that records its acceptance, and the signer's key that was current
 * at that moment (the DID's own key, or the key of the last `key.rotated`
 * entry of the DID before it). With the stored envelope, that is all anyone
 * needs to re-verify the message later, offline.
 */
import { publicKeyFromIdentifier, toB64, type AuditEntry } from '../core/index.js'

/** The verification status of a stored message, as the export shows it. */
export interface MessageVerification {
  /** Every stored message passed the acceptance rules. */
  readonly status: 'verified'
  /** Index of the audit entry that records its acceptance (null when the log has none). */
  readonly auditIndex: number | null
  /** When this node accepted it (the entry's time), ISO 8601. */
  readonly verifiedAt: string | null
  /** The signer's public key (b64) the signature was verified under. */
  readonly publicKey: string | null
  /** `seq` of the signer's key event that made that key current (0: inception). */
  readonly keySeq: number | null
}

interface KeyAt {
  readonly key: string
  readonly seq: number
}

function keyNamedBy(did: string): KeyAt | null {
  try {
    return { key: toB64(publicKeyFromIdentifier(did)), seq: 0 }
  } catch {
    return null
  }
}

function rotationOf(entry: AuditEntry): KeyAt | null {
  const { key, seq } = entry.data as { key?: unknown; seq?: unknown }
  return typeof key === 'string' && typeof seq === 'number' ? { key, seq } : null
}

/** The verification of every accepted message in `entries`, by envelope id. */
export function messageVerifications(entries: readonly AuditEntry[]): Map<string, MessageVerification> {
  const current = new Map<string, KeyAt>()
  const out = new Map<string, MessageVerification>()
  for (const e of entries) {
    if (e.subject === null) continue
    if (e.kind === 'key.rotated') {
      const rotated = rotationOf(e)
      if (rotated !== null) current.set(e.subject, rotated)
      continue
    }
    if (e.kind !== 'envelope.accepted' || e.envelopeId === null) continue
    if ((e.data as { type?: unknown }).type !== 'msg' || out.has(e.envelopeId)) continue
    const key = current.get(e.subject) ?? keyNamedBy(e.subject)
    out.set(e.envelopeId, {
      status: 'verified',
      auditIndex: e.index,
      verifiedAt: new Date(e.ts).toISOString(),
      publicKey: key?.key ?? null,
      keySeq: key?.seq ?? null,
    })
  }
  return out
}

/** The verification of a message the log does not record (never expected: every acceptance is logged). */
export const UNRECORDED: MessageVerification = {
  status: 'verified',
  auditIndex: null,
  verifiedAt: null,
  publicKey: null,
  keySeq: null,
}
