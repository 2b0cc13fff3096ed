/**
 * The node events an ingested envelope raises (docs/api.md "WebSocket
 * stream"): one per acceptance or refusal the operator should see, none for
 * the mesh's ordinary duplicates or for what passes the registry's bounds.
 */
import { shortReason, type Envelope, type KeyEvent, type Verdict } from '../core/index.js'
import type { NodeEvents } from '../events.js'
import type { IngestSource } from './ingest.js'

/** Emit the event of `v`; `freshDuplicity` says whether a duplicity was recorded for the first time. */
export function announceVerdict(
  events: Pick<NodeEvents, 'emit'>,
  v: Verdict,
  source: IngestSource,
  freshDuplicity: boolean,
): void {
  if (v.ok) announceAccepted(events, v.envelope, v.id, source)
  else announceRefused(events, v, source, freshDuplicity)
}

function announceRefused(
  events: Pick<NodeEvents, 'emit'>,
  v: Extract<Verdict, { ok: false }>,
  source: IngestSource,
  freshDuplicity: boolean,
): void {
  // a duplicate from the mesh is normal; one sent to the API is a refusal the operator sees
  if (v.error.code === 'DUPLICATE' && source.kind !== 'api') return
  // past the registry's bounds: not announced one by one (docs/protocol.md §6, §7)
  if (v.error.code === 'REGISTRY_FULL' || v.error.code === 'KEY_LOG_FULL') return
  if (v.error.code === 'RATE_LIMITED' && source.kind !== 'api') return // past a renewal budget
  if (v.error.code === 'DUPLICITY') {
    const ev = v.envelope as KeyEvent | undefined
    if (!freshDuplicity) return
    events.emit('key:duplicity', {
      did: ev?.did ?? null,
      seq: ev?.seq ?? null,
      id: v.id ?? null,
      keptId: (v.error.details?.existing as string | null | undefined) ?? null,
      source: source.kind,
    })
    return
  }
  events.emit('message:rejected', {
    code: v.error.code,
    reason: shortReason(v.error.message),
    type: v.envelope?.type ?? null,
    id: v.id ?? null,
    source: source.kind,
    attributableTo: v.attributableTo ?? null,
    claimed: claimedSigner(v.envelope),
  })
}

function announceAccepted(events: Pick<NodeEvents, 'emit'>, e: Envelope, id: string, source: IngestSource): void {
  if (e.type === 'msg') {
    const local = source.kind === 'api' || source.kind === 'local'
    events.emit(local ? 'message:signed' : 'message:received', {
      id,
      from: e.from,
      to: e.to,
      body: e.body,
      ts: e.ts,
      signature: e.sig,
      source: source.kind,
    })
  } else if (e.type === 'reg') {
    events.emit('agent:registered', {
      did: e.did,
      name: e.name,
      capabilities: e.capabilities,
      controller: e.controller,
      source: source.kind,
    })
  } else if (e.type === 'rot') {
    events.emit('agent:rotated', { did: e.did, seq: e.seq, publicKey: e.key })
  } else if (e.type === 'rev') {
    events.emit('agent:revoked', { did: e.did, reason: e.reason, ts: e.ts })
  } else if (e.type === 'chk') {
    events.emit('audit:checkpoint', { origin: e.origin, size: e.size, root: e.root })
  }
}

/** The DID an envelope claims as its signer (unproven when it was refused), or null. */
function claimedSigner(e: Envelope | undefined): string | null {
  if (e === undefined) return null
  return e.type === 'msg' ? e.from : e.type === 'chk' ? e.origin : e.did
}
