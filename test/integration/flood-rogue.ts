/**
 * A rogue test peer: a bare libp2p mesh node on the memory transport that
 * accepts all gossip and answers registry sync (docs/protocol.md §9) with an
 * empty registry (an all-zero fingerprint per prefix asked), so the node
 * under test keeps the connection and the test's gossip is what it judges.
 */
import { generateKeyPair } from '../../node/core/index.js'
import { createMeshP2P, type MeshP2P, type MeshP2PInit, type SyncRequest } from '../../node/p2p/index.js'

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
