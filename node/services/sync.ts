/**
 * Registry catch-up (SPEC §4): what a node serves on `/meshsig/sync/1.0.0`
 * and how it applies what a peer served. Every item goes through the same
 * acceptance rules as gossip; nothing is trusted because a peer sent it.
 */
import { decodeEnvelope, encodeEnvelope, type Envelope, type KeyEvent } from '../core/index.js'
import type { Store } from '../store/index.js'
import type { Ingest } from './ingest.js'

/** Counts of what a sync applied. */
export interface SyncResult {
  readonly accepted: number
  readonly duplicates: number
  readonly rejected: number
}

/**
 * The registry state in an order any node can apply front to back: key
 * events other than revocations, then registrations, then revocations (a
 * controller's revocation needs the registration that names the controller).
 */
export function registrySnapshot(store: Store): Uint8Array[] {
  const logs = store.keyEvents.allDids().map((did) => store.keyEvents.log(did))
  const events = logs.flat()
  const regs = store.agents.list().map((a) => JSON.parse(a.regEnvelope) as Envelope)
  const ordered: Envelope[] = [
    ...events.filter((e: KeyEvent) => e.type !== 'rev'),
    ...regs,
    ...events.filter((e: KeyEvent) => e.type === 'rev'),
  ]
  return ordered.map((e) => encodeEnvelope(e))
}

/** Apply a peer's snapshot through `ingest`; malformed items count as rejected. */
export function applySnapshot(ingest: Ingest, items: readonly Uint8Array[], peer: string): SyncResult {
  let accepted = 0
  let duplicates = 0
  let rejected = 0
  for (const item of items) {
    let envelope: unknown
    try {
      envelope = decodeEnvelope(item)
    } catch {
      rejected++
      continue
    }
    const v = ingest.ingest(envelope, { kind: 'sync', peer }, { fresh: false })
    if (v.ok) accepted++
    else if (v.error.code === 'DUPLICATE') duplicates++
    else rejected++
  }
  return { accepted, duplicates, rejected }
}
