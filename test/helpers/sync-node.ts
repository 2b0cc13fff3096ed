/**
 * One in-memory node of the registry-sync unit tests (docs/protocol.md §9): a
 * service kit holding its own inception, on the fake mesh, answering sync
 * requests from its own index.
 */
import { expect } from 'vitest'
import { createInception } from '../../node/core/index.js'
import { answerSync } from '../../node/services/sync.js'
import { createRegistrySync, type RegistrySync, type SyncBudget } from '../../node/services/sync-client.js'
import type { FakeNetwork, FakeP2P } from './fake-p2p.js'
import { kitNode, type FixedClock, type KitNode } from './service-kit.js'

/** A kit node with its registry sync, on the fake mesh. */
export interface SyncNode {
  readonly kit: KitNode
  readonly p2p: FakeP2P
  readonly sync: RegistrySync
  /** What the sync reported through `onError`. */
  readonly errors: unknown[]
}

/** What may differ between the tests' sync nodes. */
export interface SyncNodeOptions {
  readonly budget?: SyncBudget
  readonly peerMemory?: number
}

/** A node of seed `seed` on `net`, its own key log (its inception) taken up as at start. */
export function syncNode(net: FakeNetwork, clock: FixedClock, seed: string, opts: SyncNodeOptions = {}): SyncNode {
  const kit = kitNode({ seed, clock })
  expect(kit.ingest.ingest(createInception(kit.key, clock.ms), { kind: 'local' }, { fresh: false }).ok).toBe(true)
  const errors: unknown[] = []
  const holder: { sync?: RegistrySync } = {}
  const p2p = net.node(kit.peerId, (request) => (holder.sync ? [...answerSync(holder.sync.index, request)] : []))
  const sync = createRegistrySync({
    store: kit.store,
    ingest: kit.ingest,
    p2p: () => p2p,
    selfDid: kit.did,
    onError: (err) => errors.push(err),
    clock: clock.now,
    ...(opts.budget !== undefined ? { budget: opts.budget } : {}),
    ...(opts.peerMemory !== undefined ? { peerMemory: opts.peerMemory } : {}),
  })
  holder.sync = sync
  return { kit, p2p, sync, errors }
}
