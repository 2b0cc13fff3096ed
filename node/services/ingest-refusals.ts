/**
 * How ingestion refuses what it does not take, as pure functions of a
 * verdict (node/services/ingest.ts): the quota and budget refusals, the
 * refusals audited once per DID rather than per envelope, and the history a
 * peer relays again, which is no fault (docs/protocol.md §5, §7).
 */
import { controllerUnknown, MeshsigError, type Envelope, type Rejected } from '../core/index.js'
import type { IngestSource, IngestStore } from './ingest.js'
import type { UnprovenRevocations } from './unproven-revocations.js'

/** A registration or key log past the registry quota (docs/protocol.md §7): neither stored nor audited. */
export function quotaRefusal(envelope: Envelope, id: string): Rejected {
  const reason = 'this node stores no more DIDs of others, agents or key logs (limits.registry.maxAgents)'
  return { ok: false, error: new MeshsigError('REGISTRY_FULL', reason), id, envelope }
}

/** A registration of a known DID past its renewal budget (renewal-budget.ts): neither stored nor audited. */
export function renewalRefusal(envelope: Envelope, id: string): Rejected {
  const reason = 'this DID registered again too often (limits.registry.renewalsPerDid); try again later'
  return { ok: false, error: new MeshsigError('RATE_LIMITED', reason), id, envelope }
}

/**
 * The DID of a registry item its revoked DID's last key signed (a rotation that raced the revocation,
 * decision 0044, or anything its holder signs after it), and the key it is audited once under: per DID and
 * type, however many come.
 */
export function revokedRegistryItem(v: Rejected): { did: string; once: string } | undefined {
  const e = v.envelope
  if (v.error.code !== 'REVOKED' || e === undefined || e.type === 'msg' || e.type === 'chk') return undefined
  return { did: e.did, once: `revoked:${e.type}:${e.did}` }
}

/** True for what a peer delivered (gossip, sync). */
export function isMesh(source: IngestSource): boolean {
  return source.kind === 'gossip' || source.kind === 'sync'
}

/**
 * A registry item from the mesh whose refusal anyone can cause without bound
 * for a known DID, audited once per DID, code and type: a registration under
 * a key the DID retired, dated after the held one (the retired key's holder
 * signs any number, and the renewal budget counts only accepted ones), or a
 * key event that skips or forks the log (refused before any signature
 * check: junk naming the DID, which gossip Ignores and charges nobody for).
 */
export function meshRepeatable(v: Rejected, source: IngestSource): { did: string; once: string } | undefined {
  const e = v.envelope
  if (!isMesh(source)) return undefined
  if (e === undefined || e.type === 'msg' || e.type === 'chk') return undefined
  const code = v.error.code
  if ((code === 'ROTATED_KEY' && e.type === 'reg') || code === 'KEL_INVALID') {
    return { did: e.did, once: `${code}:${e.type}:${e.did}` }
  }
  return undefined
}

/**
 * History a peer relays again, not something to record or alarm on: a
 * revoked DID's own registration or key event that this node already stores
 * (every anti-entropy round re-sends it), or a registration signed before a
 * rotation whose newer registration this node already holds (gossip's
 * message cache can hand the old one over after the rotation) — a duplicate.
 * A registration under a rotated-out key that is newer than the stored one
 * stays a ROTATED_KEY refusal (docs/protocol.md §5).
 */
export function storedHistory(v: Rejected, store: Pick<IngestStore, 'agents' | 'keyEvents'>): Rejected {
  const e = v.envelope
  if (v.error.code === 'ROTATED_KEY' && e?.type === 'reg' && v.id !== undefined) {
    const held = store.agents.get(e.did)
    const superseded = held !== undefined && held.regTs >= e.ts
    return superseded ? { ...v, error: new MeshsigError('DUPLICATE', `registration ${v.id} is superseded`) } : v
  }
  if (v.error.code !== 'REVOKED' || v.id === undefined || e === undefined) return v
  const stored =
    e.type === 'reg'
      ? store.agents.get(e.did)?.regId === v.id
      : e.type !== 'msg' && e.type !== 'chk' && store.keyEvents.eventIdAt(e.did, e.seq) === v.id
  return stored ? { ...v, error: new MeshsigError('DUPLICATE', `envelope ${v.id} is already stored`) } : v
}

/**
 * Items pulled by sync are history a peer relays, not something the signer
 * just did: a rule they break never counts against the DID.
 */
export function withoutAttribution(v: Rejected): Rejected {
  const { attributableTo: _blamed, ...rest } = v
  return rest
}

/**
 * A revocation a peer delivered that this node cannot check, holding no
 * registration of its DID to name the controller (decision 0069): the
 * peer's first of that DID stays the `UNKNOWN_SIGNER` refusal (nobody
 * charged, not audited); another one of the same DID from the same peer is
 * `SIGNATURE_INVALID`, a forgery charged to it, since an honest peer holds
 * one revocation of a DID. From the API it stays the client's refusal.
 */
export function uncheckedRevocation(
  v: Rejected,
  source: IngestSource,
  delivered: Pick<UnprovenRevocations, 'admit'>,
): Rejected {
  const did = controllerUnknown(v)
  const fromPeer = isMesh(source) || source.kind === 'deliver'
  if (did === undefined || v.id === undefined || source.peer === undefined || !fromPeer) return v
  if (delivered.admit(source.peer, did, v.id)) return v
  const why = `another revocation of ${did} from this peer that no key known here signed (a peer holds one)`
  return { ...v, error: new MeshsigError('SIGNATURE_INVALID', why, { did }) }
}
