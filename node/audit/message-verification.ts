/**
 * How each stored message was verified, reproduced from the audit log: the
 * entry that records its acceptance, and the signer's key that was current
 * at that moment (the DID's own key, or the key of the last `key.rotated`
 * entry of the DID before it). With the stored envelope, that is all anyone
 * needs to re-verify the message later, offline.
 */
import { isoTime, publicKeyFromIdentifier, toB64, type AuditEntry } from '../core/index.js'

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
  if (typeof entry.data !== 'object' || entry.data === null) return null // malformed: the log's verdict names it
  const { key, seq } = entry.data as { key?: unknown; seq?: unknown }
  return typeof key === 'string' && typeof seq === 'number' ? { key, seq } : null
}

/**
 * Reads the log in order and says, for each entry that records the
 * acceptance of a `msg`, how that message was verified: the streaming form
 * of `messageVerifications` (memory grows with the DIDs that rotated).
 */
export class VerificationTracker {
  readonly #current = new Map<string, KeyAt>()

  /** The verification `e` records (null when it records no message acceptance). */
  add(e: AuditEntry): MessageVerification | null {
    if (e.subject === null) return null
    if (e.kind === 'key.rotated') {
      const rotated = rotationOf(e)
      if (rotated !== null) this.#current.set(e.subject, rotated)
      return null
    }
    if (e.kind !== 'envelope.accepted' || e.envelopeId === null) return null
    if ((e.data as { type?: unknown } | null)?.type !== 'msg') return null
    const key = this.#current.get(e.subject) ?? keyNamedBy(e.subject)
    return {
      status: 'verified',
      auditIndex: e.index,
      verifiedAt: isoTime(e.ts),
      publicKey: key?.key ?? null,
      keySeq: key?.seq ?? null,
    }
  }
}

/** The verification of every accepted message in `entries`, by envelope id (its first acceptance). */
export function messageVerifications(entries: readonly AuditEntry[]): Map<string, MessageVerification> {
  const tracker = new VerificationTracker()
  const out = new Map<string, MessageVerification>()
  for (const e of entries) {
    const v = tracker.add(e)
    if (v !== null && e.envelopeId !== null && !out.has(e.envelopeId)) out.set(e.envelopeId, v)
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
