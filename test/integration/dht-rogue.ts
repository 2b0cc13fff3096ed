/**
 * A rogue peer's raw kad-DHT messages to a node, past the DHT's own client (attack review 112): what any
 * connected peer can send over `/meshsig/kad/1.0.0`. Test-only access to libp2p internals.
 */
import type { PeerId } from '@libp2p/interface'
import type { MeshNode } from '../../node/mesh-node.js'
import type { MeshP2P } from '../../node/p2p/index.js'

/** The kad-dht internals these tests reach. */
interface DhtInternals {
  network: {
    sendMessage(to: PeerId, msg: unknown, options: object): AsyncIterable<unknown>
    sendRequest(to: PeerId, msg: unknown, options: object): AsyncIterable<{ name: string; error?: Error }>
  }
  providers: {
    datastore: { query(q: { prefix: string }): AsyncIterable<unknown> }
    getProviders(cid: unknown): Promise<PeerId[]>
  }
}

interface Libp2pInternals {
  peerId: PeerId & { toMultihash(): { bytes: Uint8Array } }
  services: { dht: DhtInternals }
  getMultiaddrs(): { bytes: Uint8Array }[]
  getConnections(): { remotePeer: PeerId }[]
}

/** A rogue's DHT, its PeerId and address, and the victim's PeerId on its connection. */
export interface RogueDht {
  readonly libp2p: Libp2pInternals
  readonly victim: PeerId
}

/** The libp2p node inside a MeshP2P (test-only). */
function libp2pOf(p2p: MeshP2P): Libp2pInternals {
  return (p2p as unknown as { libp2p: Libp2pInternals }).libp2p
}

/** The kad-dht service of a running node (test-only). */
export function dhtOf(node: MeshNode): DhtInternals {
  const parts = (node as unknown as { parts: { state: { p2p: MeshP2P } } }).parts
  return libp2pOf(parts.state.p2p).services.dht
}

/** `rogue`'s DHT and its connection's PeerId of `node` (connected). */
export function rogueDht(rogue: MeshP2P, node: MeshNode): RogueDht {
  const libp2p = libp2pOf(rogue)
  const victim = libp2p.getConnections().find((c) => c.remotePeer.toString() === node.info().peerId)?.remotePeer
  if (victim === undefined) throw new Error('the rogue is not connected to the node')
  return { libp2p, victim }
}

/** Send one `ADD_PROVIDER` of `key` (a multihash) naming the rogue itself, as kad-dht checks. */
export async function dhtMessage(r: RogueDht, key: Uint8Array): Promise<void> {
  const { libp2p } = r
  const msg = {
    type: 'ADD_PROVIDER',
    key,
    closer: [],
    providers: [{ id: libp2p.peerId.toMultihash().bytes, multiaddrs: [libp2p.getMultiaddrs()[0]!.bytes] }],
  }
  for await (const _ of libp2p.services.dht.network.sendMessage(r.victim, msg, {})) void _
}

/** Send one DHT request; rejects when the node answers with an error (or closes the stream). */
export async function dhtRequest(r: RogueDht, msg: unknown): Promise<void> {
  for await (const event of r.libp2p.services.dht.network.sendRequest(r.victim, msg, {})) {
    if (event.name === 'QUERY_ERROR') throw event.error ?? new Error('DHT request failed')
  }
}
