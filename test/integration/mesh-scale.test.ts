/**
 * Proof at scale (issue 12): thirty real libp2p nodes in one process over the
 * memory transport, in a seeded sparse random topology (each node dials one
 * to three others). Registrations made on a few nodes reach all thirty with
 * identical registries; a direct message is stored and audited only by the
 * sender's and the recipient's nodes and receipted by the latter
 * (docs/protocol.md §10); a broadcast reaches every node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MeshNode } from '../../node/mesh-node.js'
import { MESSAGES_TOPIC } from '../../node/p2p/index.js'
import { OPERATOR } from '../../node/services/authority.js'
import { stopAll } from '../helpers/mesh.js'
import { auditNaming, gossipView, registryDigest, startSparseMesh } from '../helpers/mesh-meter.js'
import { prng } from '../helpers/topology.js'
import { waitFor } from '../helpers/wait-for.js'

const COUNT = 30
/** Nodes that host agents, with the agents' DIDs. */
const hosts: { node: MeshNode; did: string }[] = []
let nodes: MeshNode[] = []

beforeAll(async () => {
  // DHT self-queries at libp2p's 5 min, not the helper's 0.5 s: kad-dht's self-query stops after its first 20
  // query events and aborts the FIND_NODEs it sent, whose answers its peers compute anyway (~20 peer-store reads
  // each); thirty nodes doing that every 5 s on two loaded cores took the DHT's answers to 16-60 s, past its 5 s
  // and 10 s request timeouts, and a host found only through the DHT was never found (no receipt in 150 s)
  const mesh = await startSparseMesh(COUNT, { seed: 12, extra: 10, init: { dhtQuerySelfInterval: 300_000 } })
  nodes = mesh.nodes
}, 120_000)

afterAll(async () => {
  await stopAll(nodes)
}, 60_000)

describe('thirty in-process nodes in a sparse random topology', () => {
  it('registrations made on six nodes reach all thirty, with identical registries', async () => {
    const random = prng(99)
    const picked = new Set<number>()
    while (picked.size < 6) picked.add(Math.floor(random() * COUNT))
    for (const i of picked) {
      const node = nodes[i]!
      hosts.push({ node, did: (await node.registerAgent(`agent-of-${node.name}`)).identity.did })
    }
    await waitFor(() => nodes.every((n) => hosts.every((h) => n.store.agents.get(h.did))), {
      timeout: 60_000,
      interval: 200,
      message: 'every node knows the six agents',
    })
    const digests = new Set(nodes.map(registryDigest))
    expect(digests.size).toBe(1)
    for (const n of nodes) expect(n.store.agents.count()).toBe(hosts.length)
  }, 90_000)

  it('a direct message is stored and audited only on its sender’s and recipient’s nodes, with a receipt', async () => {
    expect(hosts).toHaveLength(6)
    const random = prng(7)
    const sent: { id: string; from: (typeof hosts)[number]; to: (typeof hosts)[number] }[] = []
    for (let k = 0; k < 5; k++) {
      const from = hosts[Math.floor(random() * hosts.length)]!
      const others = hosts.filter((h) => h !== from)
      const to = others[Math.floor(random() * others.length)]!
      const msg = { authority: OPERATOR, fromDid: from.did, toDid: to.did, message: `direct ${k}` }
      sent.push({ id: (await from.node.sendMessage(msg)).id, from, to })
    }
    for (const s of sent) {
      // a failed attempt (a host not found yet) is retried after 1 s, doubling up to 60 s (docs/protocol.md §10)
      const done = await waitFor(
        () => (s.from.node.delivery(s.id)?.state === 'delivered' ? s.from.node.delivery(s.id) : undefined),
        { timeout: 150_000, interval: 100 },
      ).catch((err: unknown) => {
        throw new Error(`no receipt: ${JSON.stringify(s.from.node.delivery(s.id))}`, { cause: err })
      })
      expect(done.receipt).toMatchObject({ type: 'rcp', msg: s.id, to: s.to.did, node: s.to.node.did })
      expect(s.to.node.delivery(s.id)).toMatchObject({ role: 'host', state: 'delivered' })
    }
    for (const s of sent) {
      const ids = new Set([s.id])
      const storing = nodes.filter((n) => n.store.messages.exists(s.id))
      const auditing = nodes.filter((n) => auditNaming(n, ids) > 0)
      expect(storing.map((n) => n.name).sort()).toEqual([s.from.node.name, s.to.node.name].sort())
      expect(auditing.map((n) => n.name).sort()).toEqual([s.from.node.name, s.to.node.name].sort())
    }
    // the 28 others: none of the five messages, not even as an audit entry
    const all = new Set(sent.map((s) => s.id))
    const path = new Set(sent.flatMap((s) => [s.from.node, s.to.node]))
    for (const n of nodes.filter((x) => !path.has(x))) {
      expect(n.store.messages.total()).toBe(0)
      expect(auditNaming(n, all)).toBe(0)
    }
  }, 240_000)

  it('one broadcast reaches all thirty nodes', async () => {
    const from = hosts[0]!
    const { id } = await from.node.sendMessage({ authority: OPERATOR, fromDid: from.did, toDid: null, message: 'all' })
    await waitFor(() => nodes.every((n) => n.store.messages.exists(id)), {
      timeout: 60_000,
      interval: 200,
      message: 'every node stores the broadcast',
    }).catch((err: unknown) => {
      const missing = nodes.filter((n) => !n.store.messages.exists(id))
      const remotes = missing.flatMap((n) => n.mesh.peers().map((p) => nodes.find((x) => x.mesh.peerId === p.peerId)))
      const views = [...missing, ...remotes].map((n) => n && gossipView(n, MESSAGES_TOPIC)).join('; ')
      const scores = (n: MeshNode) => n.mesh.peers().map((p) => `${p.peerId.slice(-6)}:${n.mesh.peerScore(p.peerId)}`)
      const faults = (n: MeshNode) => JSON.stringify(n.store.misc.peerFaults().filter((f) => f.forged > 0))
      const audited = (n: MeshNode) =>
        n.store.auditEntries
          .entries(0, n.store.auditEntries.count())
          .map((r) => r.entry)
          .filter((e) => e.includes(id))
          .join(' | ')
      const drops = missing
        .map((n) => `${n.name} ${JSON.stringify(n.relayStats())} scores=${scores(n).join(',')} faults=${faults(n)}`)
        .map((line, i) => `${line} audited=[${audited(missing[i]!)}]`)
        .join('; ')
      throw new Error(`${missing.length} nodes lack the broadcast (${drops}): ${views}`, { cause: err })
    })
    for (const n of nodes) expect(auditNaming(n, new Set([id]))).toBeGreaterThan(0)
  }, 90_000)
})
