/**
 * A large registry, fast and honestly: agents signed in the test process and
 * put into a node through its one acceptance function (docs/protocol.md §5),
 * in transactions of 512, without gossip. The node then serves them to
 * peers by registry sync (§9) like any others.
 */
import {
  createInception,
  createRegistration,
  encodeEnvelope,
  generateKeyPair,
  type Envelope,
  type KeyPair,
} from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'

interface Inside {
  readonly ingest: { ingest(e: Envelope, source: unknown, opts: unknown): { ok?: boolean } | unknown }
}

/** `count` agents (inception, then registration) hosted by `host`, each with a fresh key. */
export function signAgents(count: number, host: MeshNode, prefix = 'fill'): Envelope[][] {
  return signAgentsWithKeys(count, host, prefix).map((a) => a.envelopes)
}

/** `signAgents`, each agent with the key that signed it (to sign its later events). */
export function signAgentsWithKeys(
  count: number,
  host: MeshNode,
  prefix = 'fill',
): { envelopes: Envelope[]; key: KeyPair; did: string }[] {
  const { peerId } = host.info()
  const out: { envelopes: Envelope[]; key: KeyPair; did: string }[] = []
  for (let i = 0; i < count; i++) {
    const key = generateKeyPair()
    const ts = Date.now()
    const icp = createInception(key, ts, generateKeyPair())
    const reg = createRegistration(
      { did: icp.did, name: `${prefix}-${i}`, capabilities: [], controller: host.did, peerId, ts },
      key,
    )
    out.push({ envelopes: [icp, reg], key, did: icp.did })
  }
  return out
}

/** Ingest `agents` into `node` (as a sync would), 512 envelopes a transaction; returns their encoded bytes. */
export function fillRegistry(node: MeshNode, agents: readonly Envelope[][]): number {
  const parts = (node as unknown as { parts: Inside }).parts
  const items = agents.flat()
  let bytes = 0
  for (let i = 0; i < items.length; i += 512) {
    node.store.transaction(() => {
      for (const e of items.slice(i, i + 512)) {
        parts.ingest.ingest(e, { kind: 'sync', peer: 'bench-fill' }, { fresh: false })
        bytes += encodeEnvelope(e).length
      }
    })
  }
  return bytes
}
