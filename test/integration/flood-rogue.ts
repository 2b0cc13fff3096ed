/**
 * What a rogue test peer answers to registry sync (docs/protocol.md §9): an
 * empty registry (an all-zero fingerprint per prefix asked), so the node
 * under test keeps the connection and the test's gossip is what it judges.
 */
import type { SyncRequest } from '../../node/p2p/index.js'

/** The sync answers of a peer that holds no registry items. */
export function* emptyRegistry(request: SyncRequest): Generator<Uint8Array> {
  if (request.kind !== 'fp') return
  const n = request.prefixes.length * (request.children === true ? 16 : 1)
  for (let i = 0; i < n; i++) yield new Uint8Array(4)
}
