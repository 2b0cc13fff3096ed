/**
 * The audit log service: appends one entry per event inside the caller's
 * store transaction, so an entry exists exactly when the state change it
 * records does. Leaf hash = SHA-256(0x00 || JCS(entry)) (SPEC §5).
 */
import { canonicalize, concatBytes, sha256, utf8 } from '../core/index.js'
import type { Store } from '../store/index.js'

/** What kind of event an audit entry records. */
export type AuditKind =
  | 'envelope.accepted'
  | 'envelope.rejected'
  | 'agent.registered'
  | 'key.incepted'
  | 'key.rotated'
  | 'agent.revoked'
  | 'duplicity'
  | 'handshake'
  | 'proxy.request'
  | 'peer.joined'
  | 'peer.left'
  | 'checkpoint'

/** One audit entry: the exact object whose JCS is hashed into the tree. */
export interface AuditEntry {
  readonly index: number
  readonly ts: number
  readonly kind: AuditKind
  readonly subject: string | null
  readonly envelopeId: string | null
  readonly code: string | null
  readonly data: Record<string, unknown>
}

/** Fields the caller supplies; index and time are filled in. */
export type AuditInput = Omit<AuditEntry, 'index' | 'ts' | 'subject' | 'envelopeId' | 'code' | 'data'> &
  Partial<Pick<AuditEntry, 'subject' | 'envelopeId' | 'code' | 'data'>>

/** RFC 9162 leaf hash of an audit entry. */
export function auditLeafHash(entry: AuditEntry): Uint8Array {
  return sha256(concatBytes(Uint8Array.of(0), utf8(canonicalize(entry))))
}

/** Appends audit entries to a store. */
export class AuditLog {
  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
  ) {}

  /** Append one entry; call inside the transaction of the change it records. */
  append(input: AuditInput): AuditEntry {
    const entry: AuditEntry = {
      index: this.store.audit.count(),
      ts: this.clock(),
      kind: input.kind,
      subject: input.subject ?? null,
      envelopeId: input.envelopeId ?? null,
      code: input.code ?? null,
      data: input.data ?? {},
    }
    this.store.audit.append(entry.index, canonicalize(entry), auditLeafHash(entry))
    return entry
  }

  /** Number of entries. */
  size(): number {
    return this.store.audit.count()
  }
}
