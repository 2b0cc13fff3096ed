/**
 * Meters for in-process meshes (issue 12, "proof at scale"): a seeded sparse
 * random topology of real nodes, and per node the bytes on its connections
 * (every transport's wire bytes, counted at the libp2p connection), the work
 * its services did (gossip validations, acceptance calls, deliveries, sync
 * rounds) and the rows it stores. Wrapping is done on the node's own objects
 * (read-only use of its private parts); nothing changes what the node does.
 */
import { createHash } from 'node:crypto'
import type { MeshNode } from '../../node/mesh-node.js'
import type { SyncClient } from '../../node/services/sync-client.js'
import { startNode, type TestNodeOptions } from './mesh.js'
import { prng, sparseEdges } from './topology.js'

/** Counters of one node; every field only grows. */
export interface NodeCounters {
  /** Bytes this node wrote to / read from its connections (encrypted frames, all protocols). */
  wireSent: number
  wireRecv: number
  /** Gossip messages (and their bytes) this node's validator checked. */
  gossip: number
  gossipBytes: number
  /** Calls of the acceptance function (gossip, sync, deliveries, own sends). */
  ingests: number
  /** Direct messages this node answered on /meshsig/deliver/1.0.0, and their request bytes. */
  deliveredIn: number
  deliveredInBytes: number
  /** Direct messages this node sent over /meshsig/deliver/1.0.0. */
  deliveredOut: number
  /** Registry sync rounds this node ran as a client, and their bytes (both directions). */
  syncRounds: number
  syncBytes: number
}

/** What a meter reads off a node's private parts (structural, so the helper imports no libp2p). */
interface MaConn {
  sendData(data: { byteLength: number }): unknown
  onData(data: { byteLength: number }): unknown
}
interface Libp2pLike {
  getConnections(): {
    maConn?: MaConn
    remotePeer: { toString(): string }
    status: string
    timeline: { open: number }
  }[]
  services: {
    pubsub: {
      streamsOutbound: Map<string, unknown>
      streamsInbound: Map<string, unknown>
      peers: Map<string, unknown>
      outboundInflightQueue?: { readableLength?: number }
    }
  }
  addEventListener(type: 'connection:open', fn: (e: { detail: { maConn?: MaConn } }) => void): void
}
interface Inside {
  readonly state: {
    p2p?: {
      libp2p?: Libp2pLike
      deliver(...a: unknown[]): Promise<Uint8Array>
      subscribers(topic: string): string[]
      meshPeers(topic: string): string[]
      identifyWatch?: { tracked: Map<string, unknown> }
    }
  }
  readonly gossip: { validate(topic: string, data: Uint8Array, via: string, origin?: string): unknown }
  readonly ingest: { ingest(...a: unknown[]): unknown }
  readonly delivery: { inbound: { handle(req: Uint8Array, from: string): Uint8Array } }
  readonly registrySync: { client: Pick<SyncClient, 'round'> }
}
const inside = (n: MeshNode): Inside => (n as unknown as { parts: Inside }).parts

/** Zeroed counters. */
export function zeroCounters(): NodeCounters {
  return {
    ...{ wireSent: 0, wireRecv: 0, gossip: 0, gossipBytes: 0, ingests: 0 },
    ...{ deliveredIn: 0, deliveredInBytes: 0, deliveredOut: 0, syncRounds: 0, syncBytes: 0 },
  }
}

/** `b - a`, field by field. */
export function diffCounters(b: NodeCounters, a: NodeCounters): NodeCounters {
  const out = zeroCounters()
  for (const k of Object.keys(out) as (keyof NodeCounters)[]) out[k] = b[k] - a[k]
  return out
}

function meterConnection(c: NodeCounters, maConn: MaConn | undefined, seen: WeakSet<object>): void {
  if (!maConn || seen.has(maConn)) return
  seen.add(maConn)
  const send = maConn.sendData.bind(maConn)
  const recv = maConn.onData.bind(maConn)
  maConn.sendData = (data) => {
    c.wireSent += data.byteLength
    return send(data)
  }
  maConn.onData = (data) => {
    c.wireRecv += data.byteLength
    return recv(data)
  }
}

function meterServices(c: NodeCounters, p: Inside): void {
  const validate = p.gossip.validate.bind(p.gossip)
  p.gossip.validate = (topic, data, via, origin) => {
    c.gossip++
    c.gossipBytes += data.length
    return validate(topic, data, via, origin)
  }
  const ingest = p.ingest.ingest.bind(p.ingest)
  p.ingest.ingest = (...a) => {
    c.ingests++
    return ingest(...a)
  }
  const inbound = p.delivery.inbound
  const handle = inbound.handle.bind(inbound)
  inbound.handle = (req, from) => {
    c.deliveredIn++
    c.deliveredInBytes += req.length
    return handle(req, from)
  }
  const client = p.registrySync.client
  const round = client.round.bind(client)
  client.round = async (peer, slice) => {
    c.syncRounds++
    const r = await round(peer, slice)
    c.syncBytes += r?.bytes ?? 0
    return r
  }
}

/**
 * Start counting on a started node: its current and future connections'
 * bytes (the handshake of a connection opened later is not seen) and its
 * services' work. Returns the live counters.
 */
export function meterNode(node: MeshNode): NodeCounters {
  const c = zeroCounters()
  const p = inside(node)
  const p2p = p.state.p2p
  const libp2p = p2p?.libp2p
  if (!p2p || !libp2p) throw new Error(`${node.name}: no started mesh to meter`)
  const seen = new WeakSet<object>()
  for (const conn of libp2p.getConnections()) meterConnection(c, conn.maConn, seen)
  libp2p.addEventListener('connection:open', (e) => meterConnection(c, e.detail.maConn, seen))
  const deliver = p2p.deliver.bind(p2p)
  p2p.deliver = (...a) => {
    c.deliveredOut++
    return deliver(...a)
  }
  meterServices(c, p)
  return c
}

/**
 * What a node's gossip sees of `topic`, for a test's failure message: its
 * connections, the peers it knows subscribed and the peers of its topic mesh
 * (short PeerIds).
 */
export function gossipView(node: MeshNode, topic: string): string {
  const p2p = inside(node).state.p2p
  if (!p2p?.libp2p) return `${node.name}: no mesh`
  const short = (ids: string[]): string => ids.map((id) => id.slice(-6)).join(',')
  const age = (c: { timeline: { open: number } }): number => Math.round((Date.now() - c.timeline.open) / 1000)
  const conns = p2p.libp2p.getConnections().map((c) => `${c.remotePeer.toString().slice(-6)}:${c.status}:${age(c)}s`)
  const { streamsOutbound, streamsInbound, peers, outboundInflightQueue } = p2p.libp2p.services.pubsub
  const queued = outboundInflightQueue?.readableLength ?? '?'
  const streams = `out=[${short([...streamsOutbound.keys()])}] in=[${short([...streamsInbound.keys()])}] peers=${peers.size} queued=${queued}`
  const watch = JSON.stringify([...(p2p.identifyWatch?.tracked ?? new Map<string, unknown>())])
  return `${node.name} ${node.mesh.peerId.slice(-6)} conns=[${conns.join(',')}] subs=[${short(p2p.subscribers(topic))}] mesh=[${short(p2p.meshPeers(topic))}] ${streams} watch=${watch}`
}

/** Rows a node stores: messages, agents, key events (of all DIDs) and audit entries. */
export interface StoredRows {
  readonly messages: number
  readonly agents: number
  readonly audit: number
}

/** The rows `node` stores now. */
export function storedRows(node: MeshNode): StoredRows {
  const s = node.store
  return { messages: s.messages.total(), agents: s.agents.count(), audit: s.auditEntries.count() }
}

/** Audit entries of `node` that name one of `ids` as their envelope. */
export function auditNaming(node: MeshNode, ids: ReadonlySet<string>): number {
  const rows = node.store.auditEntries.entries(0, node.store.auditEntries.count())
  return rows.filter((r) => ids.has((JSON.parse(r.entry) as { envelopeId?: string | null }).envelopeId ?? '')).length
}

/** The registry as a node shows it (every agent's DID, controller, peer and registration id), hashed. */
export function registryDigest(node: MeshNode): string {
  const rows = node.store.agents
    .list({ limit: 1_000_000 })
    .map((a) => `${a.did} ${a.controller} ${a.peerId} ${a.regId}`)
    .sort()
  return createHash('sha256').update(rows.join('\n')).digest('hex')
}

/** A started sparse mesh. */
export interface SparseMesh {
  readonly nodes: MeshNode[]
  readonly edges: readonly [number, number][]
}

/**
 * Start `count` in-process nodes over the memory transport; node i dials the
 * lower ends of its edges of `sparseEdges(count, extra, prng(seed))` (its
 * bootstrap list), nothing else. `init` is passed to every node.
 */
export async function startSparseMesh(
  count: number,
  opts: { seed: number; extra: number; init?: TestNodeOptions['init'] },
): Promise<SparseMesh> {
  const edges = sparseEdges(count, opts.extra, prng(opts.seed))
  const nodes: MeshNode[] = []
  try {
    for (let i = 0; i < count; i++) {
      const peers = edges.filter(([a]) => a === i).map(([, b]) => nodes[b]!.info().multiaddrs[0]!)
      nodes.push(await startNode({ peers, ...(opts.init ? { init: opts.init } : {}) }))
    }
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)))
    throw err
  }
  return { nodes, edges }
}
