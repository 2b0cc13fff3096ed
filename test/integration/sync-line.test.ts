/**
 * Registry sync on real in-process nodes in a line A–B–C (docs/protocol.md
 * §9), anti-entropy timers off so only what the protocol itself triggers
 * runs: nodes that host no agents reach the same reconciliation root (and
 * hold each neighbour's own key log); a registration whose key log B lacks
 * (the agent rotated before registering, so nobody can check it without the
 * log) still reaches C with its whole log, each hop fetching the log from
 * the peer that sent it and checking every event, and nobody charges the
 * honest node that sent it (before, B rejected it as a forgery, penalised A,
 * and learned it only from the sync of the reconnection that followed).
 */
import { afterEach, describe, expect, it } from 'vitest'
import {
  createInception,
  createRegistration,
  createRotation,
  envelopeId,
  generateKeyPair,
  type Envelope,
} from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { waitForMeshes } from './keys-fixture.js'

interface Inside {
  readonly ingest: { ingest(e: Envelope, source: unknown, opts: unknown): { ok: boolean } }
  readonly gossip: { publish(envelopes: readonly Envelope[]): Promise<void> }
  readonly registrySync: {
    readonly client: { round(peer: string): Promise<unknown> }
    readonly index: { fingerprint(p: string): { count: number; fp: Uint8Array } }
  }
}
const inside = (n: MeshNode): Inside => (n as unknown as { parts: Inside }).parts
const root = (n: MeshNode): string => {
  const f = inside(n).registrySync.index.fingerprint('')
  return `${f.count}:${Buffer.from(f.fp).toString('hex')}`
}
const QUIET = { antiEntropyMs: 3_600_000 }

/** A strict line: each node dials only the one before it (the DHT would otherwise connect A and C). */
async function line(): Promise<MeshNode[]> {
  const only = (peerId?: string) => ({ ...QUIET, denyDialPeer: (id: string) => id !== peerId })
  const a = await startNode({ init: only() })
  const b = await startNode({ init: only(a.info().peerId), peers: [a.info().multiaddrs[0]!] })
  const c = await startNode({ init: only(b.info().peerId), peers: [b.info().multiaddrs[0]!] })
  return [a, b, c]
}

let nodes: MeshNode[] = []
afterEach(async () => {
  await stopAll(nodes)
  nodes = []
})

describe('registry sync in a line A–B–C', () => {
  it('gives nodes that host no agents the same root, each holding its neighbours’ own key logs', async () => {
    nodes = await line()
    const [a, b, c] = nodes as [MeshNode, MeshNode, MeshNode]
    for (const [x, y] of [
      [b, a],
      [a, b],
      [c, b],
      [b, c],
    ] as const)
      await inside(x).registrySync.client.round(y.info().peerId)
    expect(new Set(nodes.map(root)).size).toBe(1)
    expect(b.store.keyEvents.state(a.did)).toBeDefined()
    expect(b.store.keyEvents.state(c.did)).toBeDefined()
    expect(a.store.keyEvents.state(b.did)).toBeDefined()
    expect(c.store.keyEvents.state(b.did)).toBeDefined()
  })

  it('brings a registration whose key log B lacks to C, with the whole log', async () => {
    nodes = await line()
    const [a, b, c] = nodes as [MeshNode, MeshNode, MeshNode]
    await waitForMeshes(nodes)
    // an agent of A that rotated its key before registering: its registration is signed by the second key
    const first = generateKeyPair()
    const second = generateKeyPair()
    const now = Date.now()
    const icp = createInception(first, now, second)
    const rot = createRotation(
      { did: icp.did, seq: 0, lastId: envelopeId(icp), key: '', next: null, priorKeys: [], revoked: null },
      first,
      second,
      now,
    )
    const { did, peerId } = a.info()
    const reg = createRegistration(
      { did: icp.did, name: 'rotated', capabilities: [], controller: did, peerId, ts: now },
      second,
    )
    for (const e of [icp, rot, reg])
      expect(inside(a).ingest.ingest(e, { kind: 'local' }, { fresh: false }).ok).toBe(true)
    await inside(a).gossip.publish([reg]) // only the registration travels by gossip: B and C must fetch the log
    await waitFor(() => c.store.agents.get(icp.did) !== undefined, { timeout: 20_000, message: 'C holds the agent' })
    expect(a.mesh.peers().map((p) => p.peerId)).not.toContain(c.info().peerId)
    for (const n of [b, c]) {
      expect(n.store.keyEvents.log(icp.did).map((e) => envelopeId(e))).toEqual([envelopeId(icp), envelopeId(rot)])
      expect(n.store.agents.get(icp.did)?.regId).toBe(envelopeId(reg))
      expect(n.store.misc.peerFaults()).toEqual([]) // nobody charged an honest peer for it
    }
  })
})
