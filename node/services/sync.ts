/**
 * Registry reconciliation (docs/protocol.md §9, docs/protocol.md §9, decision 0014): what
 * a node serves on `/meshsig/sync/1.0.0` and how it applies what a peer
 * served. Every item goes through the same acceptance rules as gossip, in
 * batches that yield to the event loop; nothing is trusted because a peer
 * sent it, and empty inceptions pass the admission rule first.
 */
import {
  canonicalB64,
  decodeEnvelope,
  MeshsigError,
  parseEnvelope,
  type Envelope,
  type Verdict,
} from '../core/index.js'
import { FP_BYTES, childPrefixes, type Fingerprint } from '../core/registry-reconcile.js'
import type { SyncRequest } from '../p2p/index.js'
import type { Store } from '../store/index.js'
import type { Admission } from './sync-admission.js'
import type { RegistryIndex } from './sync-index.js'
import { GOSSIP_REJECT_CODES, type Ingest } from './ingest.js'
import type { RefusedIds } from './refused-ids.js'

export { REFUSED_IDS_MEMORY, RefusedIds } from './refused-ids.js'

/** Counts of what a sync applied. */
export interface SyncResult {
  readonly accepted: number
  readonly duplicates: number
  readonly rejected: number
  /** Items held or refused by the admission rule (empty inceptions). */
  readonly held: number
  /** Application bytes moved (requests and answers). */
  readonly bytes: number
  /** Budgeted passes the round ran (docs/protocol.md §9). */
  readonly passes: number
}

/** Most short ids one `ids` answer carries. */
export const MAX_IDS_ANSWER = 4096
/** Envelopes ingested per transaction before the apply yields to the event loop. */
export const APPLY_BATCH = 64

/** Encode a fingerprint frame: 4-byte count, then the fingerprint when the count is not 0. */
export function encodeFingerprint(f: Fingerprint): Uint8Array {
  const out = new Uint8Array(f.count === 0 ? 4 : 4 + FP_BYTES)
  new DataView(out.buffer).setUint32(0, f.count)
  if (f.count !== 0) out.set(f.fp, 4)
  return out
}

/** Decode a fingerprint frame; undefined when malformed. */
export function decodeFingerprint(frame: Uint8Array): Fingerprint | undefined {
  if (frame.length !== 4 && frame.length !== 4 + FP_BYTES) return undefined
  const count = new DataView(frame.buffer, frame.byteOffset, 4).getUint32(0)
  if ((count === 0) !== (frame.length === 4)) return undefined
  const fp = new Uint8Array(FP_BYTES)
  if (count !== 0) fp.set(frame.subarray(4))
  return { count, fp }
}

/** Answer one sync request from the index (frames streamed as produced). */
export function* answerSync(index: RegistryIndex, request: SyncRequest): Generator<Uint8Array> {
  switch (request.kind) {
    case 'fp':
      for (const p of request.prefixes) {
        for (const q of request.children === true ? childPrefixes(p) : [p])
          yield encodeFingerprint(index.fingerprint(q))
      }
      return
    case 'ids': {
      // each prefix once, and none looked up once the answer is full (docs/protocol.md §9, "Budgets")
      let left = MAX_IDS_ANSWER
      for (const p of new Set(request.prefixes)) {
        if (left <= 0) return
        for (const id of index.idsUnder(p, left)) {
          left--
          yield new Uint8Array(Buffer.from(id.slice(0, 16), 'hex'))
        }
      }
      return
    }
    case 'items': {
      const items = request.ids.map((s) => index.byShortId(s)).filter((i) => i !== undefined)
      items.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0))
      for (const item of items) {
        const bytes = index.encode(item)
        if (bytes) yield bytes
      }
      return
    }
    case 'page':
      for (const item of index.page(request.after, request.limit)) {
        const bytes = index.encode(item)
        if (bytes) yield bytes
      }
      return
    case 'self':
      yield* index.ownLog()
      return
    case 'registry':
      throw new MeshsigError(
        'INVALID_INPUT',
        'whole-registry snapshots are no longer served: reconcile (fp, ids, items, page)',
      )
  }
}

/** What applying needs: a transaction per batch, the one acceptance path, the admission rule. */
export interface ApplyComponents {
  readonly store: Pick<Store, 'transaction'>
  readonly ingest: Pick<Ingest, 'ingest' | 'refuse'>
  readonly admission: Pick<Admission, 'admit'>
  /** What the node stores: a duplicate it does not store (a second revocation of a revoked DID) is remembered. */
  readonly index?: Pick<RegistryIndex, 'has'>
}

/** Counters of one apply. */
export interface ApplyCounts {
  accepted: number
  duplicates: number
  rejected: number
  /** Rejections that prove the peer passed on something forged or broken. */
  forged: number
  held: number
}

/** Let the event loop run (the API answers between batches). */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/**
 * Apply envelopes a peer served, in order, `APPLY_BATCH` per transaction,
 * yielding between batches. Empty inceptions go through the admission
 * rule; `refused` names ids known to be refused already (not re-audited).
 */
export async function applyItems(
  c: ApplyComponents,
  envelopes: readonly Envelope[],
  peer: { id: string; key: string | undefined },
  counts: ApplyCounts,
  refused: RefusedIds,
): Promise<void> {
  for (let i = 0; i < envelopes.length; i += APPLY_BATCH) {
    const batch = envelopes.slice(i, i + APPLY_BATCH)
    c.store.transaction(() => {
      for (const e of batch) applyOne(c, e, peer, counts, refused)
    })
    await yieldToLoop()
  }
}

function applyOne(
  c: ApplyComponents,
  e: Envelope,
  peer: { id: string; key: string | undefined },
  counts: ApplyCounts,
  refused: RefusedIds,
): void {
  const admitted = c.admission.admit(e, peer.id, peer.key)
  if (typeof admitted === 'string') {
    counts.held++
    return
  }
  if ('forged' in admitted) {
    // a key event of a held DID that does not check against its held log: this peer's forgery (decision 0085)
    countVerdict(
      c,
      c.ingest.refuse(admitted.forged, { kind: 'sync', peer: peer.id }),
      peer.id,
      peer.id,
      counts,
      refused,
    )
    return
  }
  // what a registration releases is each charged to the peer that delivered it, not to this one (decision 0085)
  for (const item of admitted.now) {
    const v = c.ingest.ingest(item.envelope, { kind: 'sync', peer: item.peer }, { fresh: false })
    countVerdict(c, v, item.peer, peer.id, counts, refused)
  }
}

/** Count one verdict of what `from` delivered; a forgery counts against the round's `peer` only when it is `from`. */
function countVerdict(
  c: ApplyComponents,
  v: Verdict,
  from: string,
  peer: string,
  counts: ApplyCounts,
  refused: RefusedIds,
): void {
  if (v.ok) counts.accepted++
  else if (v.error.code === 'DUPLICATE') {
    counts.duplicates++
    // not stored here, so a peer that holds it would serve it every round (decision 0044)
    if (v.id !== undefined && c.index !== undefined && !c.index.has(v.id)) refused.remember(v.id, 'DUPLICATE', from)
  } else {
    counts.rejected++
    if (v.id !== undefined) refused.remember(v.id, v.error.code, from, v.envelope)
    if (GOSSIP_REJECT_CODES.has(v.error.code) && from === peer) counts.forged++
  }
}

/** A served frame that is a JSON object but no envelope under today's schema (decision 0073). */
export const STALE = Symbol('stale item')
/**
 * A served frame that is an envelope once its base64 fields are written canonically: an item an honest
 * peer took before decision 0073 and still serves (review 111: a holder of more than 32 was a fault).
 */
export const LEGACY = Symbol('legacy item')

/** The base64 fields of a registry item. */
const B64_FIELDS = ['key', 'next', 'sig', 'sig2'] as const

/**
 * What one served frame is: an envelope; `LEGACY`, one an honest peer stored
 * before decision 0073's canonical base64 (it is one once its base64 fields
 * are respelt); `STALE`, another JSON object that fails today's envelope
 * schema; or undefined, no JSON object at all (a protocol fault).
 */
export function decodeItem(frame: Uint8Array): Envelope | typeof LEGACY | typeof STALE | undefined {
  try {
    return decodeEnvelope(frame)
  } catch {
    // only on failure: is it at least a JSON object (what an honest store holds)?
    let json: unknown
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(frame))
    } catch {
      return undefined
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined
    return legacyShaped(json as Record<string, unknown>) ? LEGACY : STALE
  }
}

/** True when `item` passes today's schema once every base64 field is written as Node writes its bytes. */
function legacyShaped(item: Record<string, unknown>): boolean {
  const respelt: Record<string, unknown> = { ...item }
  for (const f of B64_FIELDS) {
    const v = item[f]
    const canonical = typeof v === 'string' ? canonicalB64(v) : undefined
    if (canonical !== undefined) respelt[f] = canonical
  }
  try {
    parseEnvelope(respelt)
    return true
  } catch {
    return false
  }
}
