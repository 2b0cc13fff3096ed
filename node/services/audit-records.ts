/**
 * What the audit log says about each envelope a node accepted or refused,
 * following the conventions of `AUDIT_KIND_DOCS` (node/core/audit-entry.ts)
 * that trust and the dashboard read back.
 */
import {
  shortReason,
  signerOf,
  toMsigDid,
  type AuditEntryInit,
  type Envelope,
  type KeyState,
  type Rejected,
} from '../core/index.js'
import type { AuthorityLabel } from './authority.js'
import type { IngestSource } from './ingest.js'

/** An audit entry without its index and time (the audit log adds both). */
export type AuditRecord = Omit<AuditEntryInit, 'ts'>

/**
 * The API client of an action, as its audit entry records it (docs/protocol.md §8): the socket's address,
 * and the forwarded one apart when a trusted proxy named another (a claim: decision 0090).
 */
export interface ApiClient {
  /** The socket's address; "local" when the action came from within the node. */
  readonly client?: string
  /** The address a trusted proxy's `X-Forwarded-For` named, when another than the socket's. */
  readonly forwardedFor?: string
}

/** Where an API action came from: its client's socket address as `peer`, the forwarded claim apart. */
export function apiSource(input: ApiClient, authority: AuthorityLabel): IngestSource {
  const forwarded = input.forwardedFor !== undefined ? { forwardedFor: input.forwardedFor } : {}
  return { kind: 'api', peer: input.client ?? 'local', ...forwarded, authority }
}

/**
 * Who delivered an envelope, as trust reads it (docs/protocol.md §7): a PeerId, or "api:<client>", the API
 * client's socket address, never a forwarded one (decision 0090), so no claim splits or smears a score.
 */
export function deliveredBy(source: IngestSource): string | null {
  if (source.peer === undefined) return null
  return source.kind === 'api' || source.kind === 'local' ? `api:${source.peer}` : source.peer
}

/** The forwarded address of an API delivery, kept apart from `deliveredBy` (bounded as `api.refused`'s). */
function forwardedOf(source: IngestSource): { forwardedFor?: string } {
  return source.forwardedFor !== undefined ? { forwardedFor: source.forwardedFor.slice(0, 64) } : {}
}

function via(source: IngestSource): string {
  return source.kind === 'local' ? 'api' : source.kind
}

/** The audit entry of an accepted envelope. */
export function acceptedRecord(
  e: Envelope,
  id: string,
  state: KeyState | undefined,
  source: IngestSource,
): AuditRecord {
  const delivery = {
    via: via(source),
    deliveredBy: deliveredBy(source),
    ...forwardedOf(source),
    ...(source.authority !== undefined ? { authority: source.authority } : {}),
  }
  switch (e.type) {
    case 'reg':
      return {
        kind: 'agent.registered',
        subject: e.did,
        envelopeId: id,
        code: null,
        data: { name: e.name, controller: e.controller, capabilities: e.capabilities.map((c) => c.type), ...delivery },
      }
    case 'rot':
      return {
        kind: 'key.rotated',
        subject: e.did,
        envelopeId: id,
        code: null,
        data: { seq: e.seq, key: e.key, ...delivery },
      }
    case 'rev':
      return {
        kind: 'agent.revoked',
        subject: e.did,
        envelopeId: id,
        code: null,
        data: { seq: e.seq, reason: e.reason, by: state?.revoked?.by ?? 'self', ...delivery },
      }
    case 'msg':
      return {
        kind: 'envelope.accepted',
        subject: e.from,
        envelopeId: id,
        code: null,
        data: { type: 'msg', to: e.to, ts: e.ts, ...delivery },
      }
    default:
      return {
        kind: 'envelope.accepted',
        subject: signerOf(e),
        envelopeId: id,
        code: null,
        data: { type: e.type, ...delivery },
      }
  }
}

/** The audit entry of a refused envelope (duplicates are not recorded). */
export function rejectedRecord(v: Rejected, source: IngestSource): AuditRecord {
  const e = v.envelope
  const data: Record<string, string | null> = {
    type: e?.type ?? null,
    via: via(source),
    deliveredBy: deliveredBy(source),
    ...forwardedOf(source),
    reason: shortReason(v.error.message),
  }
  if (e?.type === 'msg') data.to = e.to
  if (source.authority !== undefined) data.authority = source.authority
  if (v.attributableTo !== undefined) data.attributableTo = v.attributableTo
  return {
    kind: 'envelope.rejected',
    subject: e ? signerOf(e) : null,
    envelopeId: v.id ?? null,
    code: v.error.code,
    data,
  }
}

/** The audit entry of a detected duplicity. */
export function duplicityRecord(did: string, seq: number, keptId: string | null, conflictingId: string): AuditRecord {
  return {
    kind: 'duplicity',
    subject: did,
    envelopeId: conflictingId,
    code: 'DUPLICITY',
    data: { seq, keptId, conflictingId },
  }
}

/** An API action refused for want of authority (docs/protocol.md §8). */
export interface RefusalInput {
  readonly action: string
  /** The DID acted on or for, as the request named it (unchecked). */
  readonly subject: string | null
  readonly code: 'UNAUTHORIZED' | 'FORBIDDEN'
  /** The socket's address (never a forwarded one: decision 0090). */
  readonly client: string
  /** The address a trusted proxy's `X-Forwarded-For` named, when another: a claim, kept apart. */
  readonly forwardedFor?: string
  /** How the caller was authorised: anonymous, an agent credential, or an invalid bearer. */
  readonly authority: string
}

/** The audit entry of a refused API action; a subject that is no did:msig is kept out of `subject`. */
export function refusalRecord(r: RefusalInput): AuditRecord {
  let subject: string | null = null
  try {
    subject = r.subject === null ? null : toMsigDid(r.subject)
  } catch {
    subject = null
  }
  return {
    kind: 'api.refused',
    subject,
    envelopeId: null,
    code: r.code,
    data: {
      action: r.action.slice(0, 64),
      client: r.client.slice(0, 64),
      ...(r.forwardedFor !== undefined ? { forwardedFor: r.forwardedFor.slice(0, 64) } : {}),
      authority: r.authority,
    },
  }
}
