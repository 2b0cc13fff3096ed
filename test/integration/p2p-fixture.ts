/**
 * Real in-process node/p2p nodes for the p2p integration tests: each records
 * what it delivered, answers sync from a list, and validates through a
 * replaceable verdict function.
 */
import { randomBytes } from 'node:crypto'
import { createMeshP2P, type MeshP2P, type Topic, type ValidationResult } from '../../node/p2p/index.js'
import { waitFor } from '../helpers/wait-for.js'

/** One message handed to `onMessage`. */
export interface Delivery {
  readonly topic: Topic
  readonly text: string
  readonly from: string
  readonly via: string
}

/** A started test node and what it observed. */
export interface Peer {
  readonly node: MeshP2P
  readonly seed: Uint8Array
  readonly peerId: string
  readonly received: Delivery[]
  readonly validated: Delivery[]
  readonly errors: Error[]
  /** Verdict of the gossip validator (accept everything by default). */
  verdict: (topic: Topic, text: string) => ValidationResult
  /** What the sync provider answers. */
  syncItems: Uint8Array[]
}

/** Options of one test node. */
export interface PeerOptions {
  readonly transports?: 'tcp+ws' | 'memory'
  readonly listen?: readonly string[]
  readonly bootstrap?: readonly string[]
  readonly seed?: Uint8Array
  /** When set, the node dials no peer outside this set (keeps a topology strict). */
  readonly dialOnly?: ReadonlySet<string>
}

let counter = 0

/** A unique `/memory/…` listen address. */
export function memoryAddr(): string {
  return `/memory/p2p-test-${process.pid}-${++counter}-${Date.now()}`
}

/** Create and start one node with fast test timings. */
export async function startPeer(opts: PeerOptions = {}): Promise<Peer> {
  const seed = opts.seed ?? new Uint8Array(randomBytes(32))
  const memory = opts.transports === 'memory'
  const decoder = new TextDecoder()
  const peer: Omit<Peer, 'node' | 'peerId'> = {
    seed,
    received: [],
    validated: [],
    errors: [],
    verdict: () => 'accept',
    syncItems: [],
  }
  const dialOnly = opts.dialOnly
  const node = await createMeshP2P({
    seed,
    transports: memory ? 'memory' : 'tcp+ws',
    listen: opts.listen ?? (memory ? [memoryAddr()] : ['/ip4/127.0.0.1/tcp/0']),
    bootstrap: opts.bootstrap ?? [],
    allow: ['/ip4/127.0.0.1/ipcidr/8'],
    dhtQuerySelfInterval: 500,
    heartbeatInterval: 200,
    ...(dialOnly === undefined ? {} : { denyDialPeer: (id: string) => !dialOnly.has(id) }),
    validate: (topic, data, from, via) => {
      const text = decoder.decode(data)
      peer.validated.push({ topic, text, from, via })
      return peer.verdict(topic, text)
    },
    onMessage: (topic, data, from, via) => peer.received.push({ topic, text: decoder.decode(data), from, via }),
    syncProvider: () => peer.syncItems,
    onError: (err) => peer.errors.push(err),
  })
  await node.start()
  return Object.assign(peer, { node, peerId: node.peerId })
}

/**
 * Start `count` nodes in a line: node i bootstraps to node i-1 only. With
 * `strict`, no node ever dials a non-neighbour (DHT lookups would otherwise
 * connect everyone to everyone).
 */
export async function startLine(
  count: number,
  opts: { transports?: 'tcp+ws' | 'memory'; strict?: boolean } = {},
): Promise<Peer[]> {
  const peers: Peer[] = []
  for (let i = 0; i < count; i++) {
    const prev = peers[i - 1]
    const bootstrap = prev === undefined ? [] : [prev.node.multiaddrs()[0]!]
    const dialOnly = opts.strict === true ? new Set(prev === undefined ? [] : [prev.peerId]) : undefined
    peers.push(await startPeer({ transports: opts.transports, bootstrap, ...(dialOnly ? { dialOnly } : {}) }))
  }
  return peers
}

/** Wait until every node's gossip mesh for `topic` holds its line neighbours. */
export async function waitForLineMesh(peers: readonly Peer[], topic: Topic, timeout = 30_000): Promise<void> {
  await waitFor(
    () =>
      peers.every((p, i) => {
        const mesh = p.node.meshPeers(topic)
        const neighbours = [peers[i - 1], peers[i + 1]].filter((n): n is Peer => n !== undefined)
        return neighbours.every((n) => mesh.includes(n.peerId))
      }),
    { timeout, message: `line mesh on ${topic}` },
  )
}

/** Stop every node, ignoring failures. */
export async function stopAll(peers: readonly (Peer | undefined)[]): Promise<void> {
  await Promise.all(peers.map((p) => p?.node.stop().catch(() => undefined)))
}

/** UTF-8 bytes of `text`. */
export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text)
}

/** How many times `peer` delivered `text`. */
export function deliveries(peer: Peer, text: string): number {
  return peer.received.filter((d) => d.text === text).length
}
