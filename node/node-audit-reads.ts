/**
 * The audit side of a node's service interface, as methods (the API reaches
 * no service object): the log's checkpoints and proofs (docs/audit.md), its
 * signed notes and witness (docs/audit.md, witnesses), trust (docs/audit.md,
 * trust) and the interop documents (docs/interop.md). Each forwards to the
 * service that owns it.
 */
import type { ChkEnvelope } from './core/index.js'
import type { AuditService } from './audit/audit-service.js'
import type { CheckpointNotes } from './audit/checkpoint-notes.js'
import { NodeReads } from './node-reads.js'
import type { Interop } from './proxy/web-bot-auth-interop.js'
import type { TrustCursor, TrustService } from './services/trust.js'
import type { WitnessService } from './services/witness-service.js'

type NoteInput = Pick<ChkEnvelope, 'origin' | 'size' | 'root'>

/** Audit log, notes, witness, trust and interop reads of a node. */
export class NodeAuditReads extends NodeReads {
  /** Entries in the audit log. */
  auditSize(): number {
    return this.audit.size()
  }

  /** Bytes of the stored messages' envelopes: what a JSON export holds of them (`GET /audit/export`). */
  storedMessageBytes(): number {
    return this.store.messages.envelopeBytes()
  }

  /** The latest checkpoint this node signed, if any. */
  latestCheckpoint(): ChkEnvelope | undefined {
    return this.audit.latest()
  }

  /** Inclusion proof of entry `index` in the tree of `size` (docs/audit.md, proofs). */
  inclusionProof(index: number, size?: number): ReturnType<AuditService['inclusion']> {
    return this.audit.inclusion(index, size)
  }

  /** Consistency proof between two tree sizes (docs/audit.md, proofs). */
  consistencyProof(first: number, second?: number): ReturnType<AuditService['consistency']> {
    return this.audit.consistency(first, second)
  }

  /** The NDJSON export's source at one tree size (docs/audit.md, streaming export). */
  auditNdjson(size?: number): ReturnType<AuditService['ndjsonSource']> {
    return this.audit.ndjsonSource(size)
  }

  /** A checkpoint as a C2SP signed note with its cosignatures. */
  checkpointNote(chk: NoteInput): string {
    return this.notes.note(chk)
  }

  /** What an auditor needs to check a checkpoint's note (note, log and witness keys). */
  auditorView(chk: NoteInput): ReturnType<CheckpointNotes['auditorView']> {
    return this.notes.auditorView(chk)
  }

  /** The node's log and witness verifier keys. */
  logVerifierKeys(): ReturnType<CheckpointNotes['vkeys']> {
    return this.notes.vkeys()
  }

  /** The binding of the node's log keys, signed by its identity key. */
  witnessBinding(): ReturnType<WitnessService['binding']> {
    return this.witness.binding()
  }

  /** Answer `POST /witness/add-checkpoint` (c2sp.org/tlog-witness). */
  witnessAddCheckpoint(body: string): ReturnType<WitnessService['addCheckpoint']> {
    return this.witness.addCheckpoint(body)
  }

  /** Evidence of inconsistent checkpoints this node holds. */
  witnessEvidence(): ReturnType<WitnessService['evidence']> {
    return this.witness.evidence()
  }

  /** Split views of logs this node does not know, past the node-wide budget: counted, not recorded (decision 0066, addendum). */
  witnessEvidenceUnrecorded(): number {
    return this.witness.unrecordedEvidence()
  }

  /** Trust of every agent, peer and connection. */
  trustReport(): ReturnType<TrustService['report']> {
    return this.trust.report()
  }

  /** One page of the trust report: each list after its cursor's key, at most `limit` rows (decision 0081). */
  trustPage(after: TrustCursor, limit: number): ReturnType<TrustService['reportPage']> {
    return this.trust.reportPage(after, limit)
  }

  /** At most `limit` connections of one agent after the other DID `after`, from its own rows (decision 0081). */
  agentConnections(did: string, after: string, limit: number): ReturnType<TrustService['connectionsOf']> {
    return this.trust.connectionsOf(did, after, limit)
  }

  /** Trust of one agent. */
  agentTrust(did: string): ReturnType<TrustService['agent']> {
    return this.trust.agent(did)
  }

  /** The Web Bot Auth key directory for `authority` (docs/interop.md §1). */
  keyDirectory(authority: string, now: number): ReturnType<Interop['keyDirectory']> {
    return this.interop.keyDirectory(authority, now)
  }

  /** The node's A2A agent card (docs/interop.md §2). */
  nodeCard(): ReturnType<Interop['nodeCard']> {
    return this.interop.nodeCard()
  }

  /** Cards of the hosted agents among `dids` this node can sign; others are left out (docs/interop.md §2). */
  agentCards(dids: readonly string[]): ReturnType<Interop['cardsOf']> {
    return this.interop.cardsOf(dids)
  }

  /** A hosted agent's A2A agent card (docs/interop.md §2). */
  agentCard(did: string): ReturnType<Interop['agentCard']> {
    return this.interop.agentCard(did)
  }
}
