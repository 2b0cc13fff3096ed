/**
 * A node's libp2p PeerId is its current key: after the node rotated its key,
 * it starts with a new PeerId, and the registrations of the agents it hosts
 * still name the old one (peers use it to reach them: handshakes, online
 * status). `refreshRegistrations` signs those registrations again, same name
 * and capabilities, naming the node's PeerId now, for every agent whose key
 * the node keeps. Agents that keep their own key must register again
 * themselves. A node may host thousands: they are renewed `REFRESH_CHUNK`
 * to a transaction (one fsync each; a transaction per registration held
 * the event loop for seconds), with the event loop free between
 * transactions, so the API answers while the mesh moves (docs/protocol.md §2).
 */
import { createRegistration, fromB64, MAX_TS, toB64, type RegEnvelope } from '../core/index.js'
import type { NodeEvents } from '../events.js'
import type { Store } from '../store/index.js'
import type { Ingest } from './ingest.js'
import type { KeyPairCache } from './key-cache.js'

/** Registrations renewed in one transaction. */
export const REFRESH_CHUNK = 64

/** What a refresh needs from the node. */
export interface RefreshComponents {
  readonly store: Store
  readonly ingest: Ingest
  /** Events of a transaction are heard once it committed. */
  readonly events: Pick<NodeEvents, 'deferred'>
  readonly keys: KeyPairCache
  readonly clock: () => number
  readonly nodeDid: string
  readonly peerId: string
  /** Where a registration that cannot be renewed is reported. */
  readonly onError?: (err: unknown) => void
}

function refreshed(c: RefreshComponents, did: string): RegEnvelope | undefined {
  const row = c.store.agents.get(did)
  const custody = c.store.custody.get(did)
  const state = c.store.keyEvents.state(did)
  if (!row || row.peerId === c.peerId || custody === undefined || !state || state.revoked) return undefined
  const key = c.keys.get(fromB64(custody.seed, 'seed', 32))
  if (toB64(key.publicKey) !== state.key) return undefined
  // what this node registered it as, not what the held registration says (decision 0057)
  const profile = custody.profile ?? (JSON.parse(row.regEnvelope) as RegEnvelope)
  const init = {
    did,
    name: profile.name,
    capabilities: profile.capabilities,
    controller: c.nodeDid,
    peerId: c.peerId,
    // after the held one; one dated at the last representable ts (anyone given the agent's key can sign it)
    // is followed at now, which replaces it only under a newer key (docs/protocol.md §5)
    ts: row.regTs < MAX_TS ? Math.max(c.clock(), row.regTs + 1) : c.clock(),
  }
  return createRegistration(init, key)
}

/**
 * Re-sign (and store) the registrations of custodied local agents that name
 * another PeerId, `REFRESH_CHUNK` to a transaction, yielding to the event
 * loop between transactions; returns them to gossip.
 */
export async function refreshRegistrations(c: RefreshComponents): Promise<RegEnvelope[]> {
  const out: RegEnvelope[] = []
  const dids = c.store.agents.localDidsNotAt(c.peerId)
  for (let i = 0; i < dids.length; i += REFRESH_CHUNK) {
    if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve))
    const chunk = dids.slice(i, i + REFRESH_CHUNK)
    const renewed: RegEnvelope[] = []
    c.events.deferred(() => c.store.transaction(() => chunk.forEach((did) => renew(c, did, renewed))))
    out.push(...renewed) // committed: only now to be gossiped
  }
  return out
}

/** Renew one agent's registration into `out`; one that cannot be renewed is reported and skipped. */
function renew(c: RefreshComponents, did: string, out: RegEnvelope[]): void {
  let reg: RegEnvelope | undefined
  try {
    reg = refreshed(c, did)
  } catch (err) {
    c.onError?.(err) // one agent's registration that cannot be renewed never keeps the node from starting
    return
  }
  if (reg === undefined) return
  const v = c.ingest.ingest(reg, { kind: 'local' }, { fresh: false })
  if (v.ok) out.push(reg)
}
