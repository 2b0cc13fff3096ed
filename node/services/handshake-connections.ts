/**
 * What a completed handshake leaves behind (docs/protocol.md §9,
 * "Handshakes"; decision 0061): a new connection row with both signed
 * proofs, one `handshake` audit entry and a `connection:established` event.
 * A repeat of one pair (same initiator, same responder) within
 * `limits.handshake.repeatWindowMs` of its newest stored connection, whose
 * proofs still verify under both DIDs' current keys, writes nothing: it
 * answers with that connection. So a pair costs the audit log at most one
 * entry per window (and one per key rotation, which only the DIDs' keys
 * make), however often it hand-shakes.
 */
import { fromB64, verifySignature } from '../core/index.js'
import type { AuditLog } from '../audit/audit-log.js'
import type { NodeEvents } from '../events.js'
import type { ConnectionRow, Store } from '../store/index.js'
import { connectionId, proofBytes, transcriptSchema, type HandshakeTranscript } from './handshake-wire.js'
import { connectionView, type ConnectionView } from './report-service.js'

/** What keeping a connection needs from the node. */
export interface ConnectionParts {
  readonly store: Store
  readonly audit: AuditLog
  readonly events: NodeEvents
  readonly clock: () => number
  /** How long a pair's stored connection answers for its repeats (ms; `limits.handshake.repeatWindowMs`). */
  readonly repeatWindowMs: number
  /** A DID's current key (its key event log); throws for an unknown or revoked DID. */
  readonly keyOf: (did: string) => Uint8Array
}

/**
 * Keep the connection of the verified transcript `t`; `role` is this node's
 * part in it (`local` when it played both), `via` the other node's PeerId.
 */
export function keepConnection(
  c: ConnectionParts,
  t: HandshakeTranscript,
  role: 'initiator' | 'responder' | 'local',
  via: string | null,
): ConnectionView {
  const now = c.clock()
  const id = connectionId(t)
  const row: ConnectionRow = { id, aDid: t.initiator.did, bDid: t.responder.did, transcript: t, establishedAt: now }
  const kept = c.store.transaction(() => {
    const repeated = standing(c, t.initiator.did, t.responder.did, now)
    if (repeated !== undefined) return { row: repeated, fresh: false }
    const added = c.store.auditEntries.addConnection(row)
    if (added) {
      c.audit.append({
        kind: 'handshake',
        subject: t.initiator.did,
        envelopeId: id,
        data: { peer: t.responder.did, ok: true, role, via },
      })
    }
    return { row, fresh: added }
  })
  const view = connectionView(kept.row)
  if (kept.fresh) {
    const { fromDid, toDid, establishedAt } = view
    c.events.emit('connection:established', { id, fromDid, toDid, establishedAt })
  }
  return view
}

/** The pair's newest connection within the repeat window, if its proofs verify under both current keys. */
function standing(c: ConnectionParts, from: string, to: string, now: number): ConnectionRow | undefined {
  const row = c.store.auditEntries.latestConnection(from, to, now - c.repeatWindowMs)
  if (row === undefined) return undefined
  const stored = transcriptSchema.safeParse(row.transcript)
  if (!stored.success) return undefined
  const { initiator, responder } = stored.data
  const current = [initiator, responder].every((p) =>
    verifySignature(proofBytes(p), fromB64(p.sig, 'sig', 64), c.keyOf(p.did)),
  )
  return current ? row : undefined
}
