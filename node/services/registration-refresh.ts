/**
 * A node's libp2p PeerId is its current key: after the node rotated its key,
 * it starts with a new PeerId, and the registrations of the agents it hosts
 * still name the old one (peers use it to reach them: handshakes, online
 * status). `refreshRegistrations` signs those registrations again, same name
 * and capabilities, naming the node's PeerId now, for every agent whose key
 * the node keeps. Agents that keep their own key must register again
 * themselves.
 */
import { createRegistration, fromB64, toB64, type RegEnvelope } from '../core/index.js'
import type { Store } from '../store/index.js'
import type { Ingest } from './ingest.js'
import type { KeyPairCache } from './key-cache.js'

/** What a refresh needs from the node. */
export interface RefreshComponents {
  readonly store: Store
  readonly ingest: Ingest
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
  const old = JSON.parse(row.regEnvelope) as RegEnvelope
  const init = {
    did,
    name: old.name,
    capabilities: old.capabilities,
    controller: c.nodeDid,
    peerId: c.peerId,
    // after the held one; one dated at the last representable ts (anyone given the agent's key can sign it)
    // is followed at now, which replaces it only under a newer key (docs/protocol.md §5)
    ts: row.regTs < Number.MAX_SAFE_INTEGER ? Math.max(c.clock(), row.regTs + 1) : c.clock(),
  }
  return createRegistration(init, key)
}

/** Re-sign (and store) the registrations of custodied local agents that name another PeerId; returns them to gossip. */
export function refreshRegistrations(c: RefreshComponents): RegEnvelope[] {
  const out: RegEnvelope[] = []
  for (const row of c.store.agents.list({ origin: 'local' })) {
    let reg: RegEnvelope | undefined
    try {
      reg = refreshed(c, row.did)
    } catch (err) {
      c.onError?.(err) // one agent's registration that cannot be renewed never keeps the node from starting
      continue
    }
    if (reg === undefined) continue
    const v = c.ingest.ingest(reg, { kind: 'local' }, { fresh: false })
    if (v.ok) out.push(reg)
  }
  return out
}
