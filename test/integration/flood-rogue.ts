/**
 * A rogue test peer: a bare libp2p mesh node on the memory transport that
 * accepts all gossip and answers registry sync (docs/protocol.md §9) with an
 * empty registry (an all-zero fingerprint per prefix asked), so the node
 * under test keeps the connection and the test's gossip is what it judges.
 */
import { createMessage, encodeEnvelope, generateKeyPair, type KeyPair } from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { createMeshP2P, type MeshP2P, type MeshP2PInit, type SyncRequest } from '../../node/p2p/index.js'
import { waitFor } from '../helpers/wait-for.js'

/** The sync answers of a peer that holds no registry items. */
export function* emptyRegistry(request: SyncRequest): Generator<Uint8Array> {
  if (request.kind !== 'fp') return
  const n = request.prefixes.length * (request.children === true ? 16 : 1)
  for (let i = 0; i < n; i++) yield new Uint8Array(4)
}

/** A rogue peer named `name` (created, not started); `init` overrides its defaults. */
export function rogueP2P(name: string, init: Partial<MeshP2PInit> = {}): Promise<MeshP2P> {
  return createMeshP2P({
    seed: generateKeyPair().seed,
    transports: 'memory',
    listen: [`/memory/${name}-${process.pid}-${Date.now()}`],
    validate: () => 'accept',
    onMessage: () => undefined,
    syncProvider: emptyRegistry,
    heartbeatInterval: 200,
    ...init,
  })
}

/** A rogue peer named `name`, started and connected to `node` (the node lists it among its peers). */
export async function connectedRogue(node: MeshNode, name: string): Promise<MeshP2P> {
  const rogue = await rogueP2P(name)
  await rogue.start()
  await rogue.dial(node.info().multiaddrs[0]!)
  await waitFor(() => node.mesh.peers().some((p) => p.peerId === rogue.peerId), { timeout: 15_000 })
  return rogue
}

/**
 * Gossip a broadcast `body` from `did` (signed with its current `key`) through `rogue` and wait until `node`
 * stored it: the node has then handled everything the rogue gossiped before it.
 */
export async function gossipMarker(
  rogue: MeshP2P,
  node: MeshNode,
  from: KeyPair,
  did: string,
  body: string,
): Promise<void> {
  const nonce = crypto.getRandomValues(new Uint8Array(16))
  const msg = createMessage({ from: did, to: null, body, ts: Date.now(), nonce }, from)
  await rogue.publish('meshsig/v1/messages', encodeEnvelope(msg))
  await waitFor(() => node.store.messages.list({ limit: 100 }).some((m) => m.envelope.body === body), {
    timeout: 15_000,
    message: `${body} taken`,
  })
}
