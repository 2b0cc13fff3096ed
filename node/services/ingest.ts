/**
 * The one path every envelope takes into a node, whatever brought it (API,
 * gossip, sync, the node itself): acceptance rules from core, then one store
 * transaction with the state change and its audit entry, then events.
 */
import {
  shortReason,
  acceptEnvelope,
  codesWhere,
  MeshsigError,
  currentKeyOf,
  heldUnderCurrentKey,
  replacesRegistration,
  type ChkEnvelope,
  type Rejected,
  type AcceptanceContext,
  type Envelope,
  type KeyEvent,
  type KeyState,
  type Verdict,
} from '../core/index.js'
import type { AuditLog } from '../audit/audit-log.js'
import type { NodeEvents } from '../events.js'
import type {
  AgentRow,
  AgentsRepo,
  AuditEntriesRepo,
  CredentialsRepo,
  CustodyRepo,
  KeyEventsRepo,
  MessageSource,
  MessagesRepo,
  MiscRepo,
  Store,
} from '../store/index.js'
import type { AuthorityLabel } from './authority.js'
import { acceptedRecord, duplicityRecord, rejectedRecord, type AuditRecord } from './audit-records.js'
import {
  noteSplitOf,
  noteSplitViewRecord,
  splitViewOf,
  firstSplitView,
  splitViewRecord,
  type NoteSplitView,
  type SplitView,
} from './split-view.js'
import { keyStateBefore } from './duplicity.js'
import { announceVerdict } from './ingest-events.js'
import { REMOTE_CHECKPOINTS_PER_ORIGIN } from '../limits.js'
import type { RegistryQuota } from './registry-quota.js'
import type { RefusalAuditBudget } from './refusal-audit-budget.js'
import type { RenewalBudget, RenewalWindow } from './renewal-budget.js'
import {
  isMesh,
  meshRepeatable,
  quotaRefusal,
  renewalRefusal,
  revokedRegistryItem,
  storedHistory,
  uncheckedRevocation,
  withoutAttribution,
} from './ingest-refusals.js'
import { UnprovenRevocations } from './unproven-revocations.js'

/** Who delivered an envelope. */
export interface IngestSource {
  readonly kind: MessageSource | 'local'
  /** PeerId of the delivering peer, or the API client's socket address (decision 0090). */
  readonly peer?: string
  /** For the API: the address a trusted proxy's `X-Forwarded-For` named, when another; a claim, recorded apart. */
  readonly forwardedFor?: string
  /** How an API action was authorised (docs/protocol.md §8), recorded in its audit entry. */
  readonly authority?: AuthorityLabel
}

/**
 * Codes that prove the delivering peer passed on something forged or broken
 * (never the claimed signer's fault): gossip answers Reject, and the peer's
 * fault count grows. Races between honest nodes are not here (decision 0005).
 */
export const GOSSIP_REJECT_CODES: ReadonlySet<string> = codesWhere((e) => e.gossip === 'reject')

/** The repositories ingestion reads and writes, and nothing else of the store. */
export interface IngestStore {
  readonly agents: Pick<AgentsRepo, 'get' | 'upsert' | 'countMessage' | 'hostsFromFirst' | 'setRenewals'>
  readonly keyEvents: Pick<KeyEventsRepo, 'state' | 'ownEventsBefore' | 'eventIdAt' | 'append' | 'recordDuplicity'>
  readonly messages: Pick<MessagesRepo, 'nonceSeen' | 'exists' | 'add'>
  readonly auditEntries: Pick<
    AuditEntriesRepo,
    | 'hasRemoteCheckpoint'
    | 'addRemoteCheckpoint'
    | 'conflictingRemoteCheckpoint'
    | 'checkpointAt'
    | 'forgetRemoteCheckpoints'
  >
  readonly misc: Pick<MiscRepo, 'attributedSeen' | 'rememberAttributed' | 'peerFault' | 'meta' | 'setMetaValue'>
  readonly custody: Pick<CustodyRepo, 'get' | 'forget'>
  readonly credentials: Pick<CredentialsRepo, 'forget'>
  transaction: Store['transaction']
}

/** What ingestion needs from the node. */
export interface IngestComponents {
  readonly store: IngestStore
  /** Where each acceptance and refusal is recorded (docs/audit.md). */
  readonly audit: Pick<AuditLog, 'append'>
  readonly events: Pick<NodeEvents, 'emit'>
  readonly clock: () => number
  readonly maxSkewMs: number
  readonly nodeDid: () => string
  /** The bound on the DIDs the mesh can make this node store (registry-quota.ts); none: unbounded. */
  readonly quota?: Pick<RegistryQuota, 'take' | 'own' | 'isFull' | 'full' | 'countLog' | 'logBecameAgent'>
  /** The bound on registrations of known DIDs the mesh can make this node take (renewal-budget.ts); none: unbounded. */
  readonly renewals?: Pick<RenewalBudget, 'take'>
  /** The node-wide budget of refusals of what peers send, audited entry by entry (refusal-audit-budget.ts); none: unbounded. */
  readonly refusalAudit?: Pick<RefusalAuditBudget, 'audit'>
  /** The one unchecked revocation of each DID each peer may deliver uncharged (decision 0069); default a fresh one. */
  readonly unproven?: Pick<UnprovenRevocations, 'admit'>
}

/** Runs the acceptance rules and commits accepted envelopes. */
export class Ingest {
  /** The split view the envelope being committed revealed (docs/audit.md, "Split views"), announced after its commit. */
  private splitView: SplitView | undefined
  /** The note this node cosigned as a witness that the `chk` being committed contradicts (decision 0079). */
  private noteSplit: NoteSplitView | undefined
  private readonly unproven: Pick<UnprovenRevocations, 'admit'>

  constructor(private readonly c: IngestComponents) {
    this.unproven = c.unproven ?? new UnprovenRevocations()
  }

  /** The read-only view of this node's state that core acceptance uses. */
  context(): AcceptanceContext {
    const { store } = this.c
    return {
      now: this.c.clock(),
      maxSkewMs: this.c.maxSkewMs,
      keyState: (did) => store.keyEvents.state(did),
      controllerOf: (did) => store.agents.get(did)?.controller,
      nonceSeen: (from, nonce) => store.messages.nonceSeen(from, nonce),
      // a refused envelope of any type is remembered as attributed; accepted ones where their type is kept
      hasEnvelope: (id, type) =>
        (type === 'msg' && store.messages.exists(id)) ||
        (type === 'chk' && store.auditEntries.hasRemoteCheckpoint(id)) ||
        store.misc.attributedSeen(id),
      eventIdAt: (did, seq) => store.keyEvents.eventIdAt(did, seq),
      keyStateBefore: (did, seq) => keyStateBefore(store, did, seq),
    }
  }

  /** Run the acceptance rules on one envelope as gossip would, storing and recording nothing. */
  check(input: unknown): Verdict {
    return acceptEnvelope(input, this.context(), { fresh: true })
  }

  /** Check and, when accepted, commit one envelope. Never throws for bad input. */
  ingest(input: unknown, source: IngestSource, opts: { fresh: boolean }): Verdict {
    let freshDuplicity = false
    this.splitView = undefined
    this.noteSplit = undefined
    const verdict = this.c.store.transaction(() => {
      let v = acceptEnvelope(input, this.context(), opts)
      if (v.ok) return this.commit(v.envelope, v.id, v.keyState, source)
      v = uncheckedRevocation(v, source, this.unproven)
      if (source.kind === 'sync' && v.attributableTo !== undefined) v = withoutAttribution(v)
      if (source.kind === 'sync' || source.kind === 'gossip') v = storedHistory(v, this.c.store)
      freshDuplicity = this.recordRejection(v, source)
      return v
    })
    announceVerdict(this.c.events, verdict, source, freshDuplicity)
    if (verdict.ok && this.splitView !== undefined) {
      const { origin, earlierId, size } = this.splitView
      this.c.events.emit('audit:inconsistent', {
        origin,
        kind: 'split-view',
        reportedBy: this.c.nodeDid(),
        earlierId,
        laterId: verdict.id,
        size,
      })
    }
    if (verdict.ok && this.noteSplit !== undefined) {
      const { origin, chkId } = this.noteSplit
      this.c.events.emit('audit:inconsistent', { origin, kind: 'split-view', reportedBy: this.c.nodeDid(), chkId })
    }
    return verdict
  }

  /**
   * Record a refusal decided before ingest (a held key event that does not
   * check against its held log, decision 0085): audited and charged to
   * `source.peer` as ingest's own refusals are.
   */
  refuse(v: Rejected, source: IngestSource): Rejected {
    this.c.store.transaction(() => this.recordRejection(v, source))
    announceVerdict(this.c.events, v, source, false)
    return v
  }

  /** Announce a send the node refused before it became an envelope (403 REVOKED for a revoked sender, …). */
  refused(error: MeshsigError, source: IngestSource, claimed: string): void {
    this.c.events.emit('message:rejected', {
      code: error.code,
      reason: shortReason(error.message),
      type: 'msg',
      id: null,
      source: source.kind,
      attributableTo: null,
      claimed,
    })
  }

  private commit(envelope: Envelope, id: string, keyState: KeyState | undefined, source: IngestSource): Verdict {
    const now = this.c.clock()
    const { store, audit } = this.c
    switch (envelope.type) {
      case 'icp':
      case 'rot':
      case 'rev':
        if (envelope.type === 'icp' && this.newDidPastQuota(envelope.did, source)) return quotaRefusal(envelope, id)
        store.keyEvents.append(envelope as KeyEvent, id, keyState!, now)
        // what the rotated-out key signed is evidence against nobody: its checkpoints make no split view (decision 0073)
        if (envelope.type === 'rot') store.auditEntries.forgetRemoteCheckpoints(envelope.did)
        // a revoked agent's custodied seed is destroyed in the same transaction (docs/protocol.md §2, §6)
        if (envelope.type === 'rev') {
          store.custody.forget(envelope.did)
          store.credentials.forget(envelope.did) // and its agent credentials (docs/protocol.md §8)
        }
        break
      case 'reg': {
        const existing = store.agents.get(envelope.did)
        const current = () => currentKeyOf(envelope.did, store.keyEvents.state(envelope.did))
        if (existing && !replacesRegistration(existing, { id, ts: envelope.ts }, current)) {
          return {
            ok: false,
            error: new MeshsigError('DUPLICATE', 'registration already known or superseded'),
            id,
            envelope,
          }
        }
        const local = this.isLocal(envelope, source)
        if (!existing && !this.admitNew(local, envelope.did)) return quotaRefusal(envelope, id)
        let renewal = existing && this.renewal(existing, source)
        // the first registration under a new key follows a rotation, not a renewal: a thief who spent the
        // budget with the old key must not keep the owner's re-signed one out (review 86; decision 0057)
        if (renewal === null && existing && !heldUnderCurrentKey(existing, current())) renewal = undefined
        if (renewal === null) return renewalRefusal(envelope, id)
        store.agents.upsert({
          did: envelope.did,
          name: envelope.name,
          capabilities: envelope.capabilities,
          controller: envelope.controller,
          peerId: envelope.peerId,
          origin: local ? 'local' : 'remote',
          regId: id,
          regEnvelope: JSON.stringify(envelope),
          regTs: envelope.ts,
          createdAt: existing?.createdAt ?? now,
          lastSeenAt: now,
        })
        if (renewal) store.agents.setRenewals(envelope.did, renewal)
        break
      }
      case 'msg':
        store.messages.add(id, envelope, source.kind === 'local' ? 'api' : source.kind, now)
        store.agents.countMessage(envelope.from, envelope.to, now)
        break
      case 'chk':
        this.keepCheckpoint(envelope, id, now)
        break
    }
    audit.append(acceptedRecord(envelope, id, keyState, source))
    for (const r of this.splitViewRecords(id)) audit.append(r)
    if (source.peer !== undefined && source.kind === 'gossip') store.misc.peerFault(source.peer, { accepted: 1 })
    return keyState ? { ok: true, envelope, id, keyState } : { ok: true, envelope, id }
  }

  /** The audit entries of the split views the checkpoint `id` being committed revealed (docs/audit.md). */
  private splitViewRecords(id: string): AuditRecord[] {
    return [
      ...(this.splitView !== undefined ? [splitViewRecord(this.splitView, id)] : []),
      ...(this.noteSplit !== undefined ? [noteSplitViewRecord(this.noteSplit)] : []),
    ]
  }

  /**
   * Keep another node's checkpoint (a bounded number per origin), noting a
   * split view it reveals: with a kept `chk`, or with the note this node
   * cosigned last for its origin as a witness (decision 0079).
   */
  private keepCheckpoint(chk: ChkEnvelope, id: string, now: number): void {
    const { auditEntries, keyEvents } = this.c.store
    const key = currentKeyOf(chk.origin, keyEvents.state(chk.origin)) // the key it was just taken under
    const s = splitViewOf(chk, auditEntries, this.c.nodeDid(), key)
    this.splitView = firstSplitView(this.c.store.misc, s, key, now) // once per size, replayed or not (review 124)
    this.noteSplit = noteSplitOf(this.c.store.misc, { chk, id }, key, now)
    auditEntries.addRemoteCheckpoint(id, chk, JSON.stringify(chk), now, REMOTE_CHECKPOINTS_PER_ORIGIN)
  }

  /** True when the key log of a DID from the mesh that is no agent is past the registry quota (else counted). */
  private newDidPastQuota(did: string, source: IngestSource): boolean {
    const { quota } = this.c
    const { agents } = this.c.store
    // an agent's log: its registration counted it; the node's own: never counted
    if (quota === undefined || agents.get(did) !== undefined || did === this.c.nodeDid()) return false
    // any other (a peer node's, a controller's: any renewal may name a new one) takes a place of its own, the
    // node's own agents' too until they register; past the bound only an agent's first host, which no renewal
    // can name anew: the agents it hosts need its log to check its revocations (attack reviews of decision 0045)
    if (source.kind === 'local' || !quota.isFull() || agents.hostsFromFirst(did)) {
      quota.countLog()
      return false
    }
    return quota.full() // counts the refusal
  }

  /**
   * The renewal window of a known agent after a registration of it from the
   * mesh: null when past the DID's budget, undefined when not counted (the
   * API, the node itself, no budget).
   */
  private renewal(held: AgentRow, source: IngestSource): RenewalWindow | null | undefined {
    if (this.c.renewals === undefined || !isMesh(source)) return undefined
    return this.c.renewals.take({ start: held.renewalStart, count: held.renewals }) ?? null
  }

  /** True when a new agent fits the registry quota (the node's own always do, and are counted). */
  private admitNew(local: boolean, did: string): boolean {
    if (this.c.quota === undefined) return true
    const hadLog = this.c.store.keyEvents.state(did) !== undefined // its log had a place
    if (local) this.c.quota.own(hadLog)
    else if (hadLog) return this.c.quota.logBecameAgent()
    else return this.c.quota.take()
    return true
  }

  /**
   * An agent is this node's own only when the node keeps its key or its own
   * API registered it: a registration from gossip or sync naming this node
   * as controller does not make an agent local.
   */
  private isLocal(reg: Extract<Envelope, { type: 'reg' }>, source: IngestSource): boolean {
    if (reg.controller !== this.c.nodeDid()) return false
    return source.kind === 'local' || this.c.store.custody.get(reg.did) !== undefined
  }

  /** Audit a refusal; true when it recorded a duplicity this node had not seen before. */
  private recordRejection(v: Rejected, source: IngestSource): boolean {
    const { store, audit } = this.c
    const code = v.error.code
    // a key log past its bound (docs/protocol.md §6): an entry for each would grow the log without bound; so
    // would junk naming a revoked DID, which no key of it signed (§5)
    if (code === 'DUPLICATE' || code === 'KEY_LOG_FULL') return false
    if (v.error.details?.signed === false) return false
    // a key event of a DID with no log here, from the mesh: refused before any signature check, junk anyone
    // can mint without end (second attack review of decision 0045); the log may simply not have arrived yet
    if (code === 'UNKNOWN_SIGNER' && isMesh(source) && (v.envelope?.type === 'rot' || v.envelope?.type === 'rev'))
      return false
    if (code === 'DUPLICITY' && v.envelope && v.id) {
      const ev = v.envelope as KeyEvent
      const fresh = store.keyEvents.recordDuplicity({
        did: ev.did,
        seq: ev.seq,
        existingId: (v.error.details?.existing as string | null) ?? null,
        conflictingId: v.id,
        envelope: ev,
        detectedAt: this.c.clock(),
      })
      const kept = (v.error.details?.existing as string | null | undefined) ?? null
      if (fresh) audit.append(duplicityRecord(ev.did, ev.seq, kept, v.id))
      return fresh
    }
    // a revoked DID's own key event or registration: recorded once per DID and type, however many its key signs
    // …and so is a refusal anyone can make without bound for a known DID (meshRepeatable)
    const once = revokedRegistryItem(v) ?? meshRepeatable(v, source)
    if (once && !store.misc.rememberAttributed(once.once, once.did, code, this.c.clock())) return false
    if (v.attributableTo !== undefined && v.id !== undefined) {
      // recorded once: a re-delivery of this envelope is a duplicate from now on. A replay, a stale time or a
      // rotated-out key is charged to whoever delivered it, never to the signer (docs/protocol.md §7)
      if (!store.misc.rememberAttributed(v.id, v.attributableTo, code, this.c.clock())) return false
    }
    // from a peer (gossip, sync and discovery answers, a delivery: peer ids and connections are free, decisions
    // 0062 and 0069), within the node-wide budget of audited refusals; past it counted (docs/protocol.md §7, 0053)
    const budget = isMesh(source) || source.kind === 'deliver' ? this.c.refusalAudit : undefined
    if (budget === undefined) audit.append(rejectedRecord(v, source))
    else budget.audit(code, rejectedRecord(v, source), (input) => audit.append(input))
    if (GOSSIP_REJECT_CODES.has(code) && source.peer !== undefined) store.misc.peerFault(source.peer, { forged: 1 })
    return false
  }
}
