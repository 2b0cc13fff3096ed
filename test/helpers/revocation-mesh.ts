/**
 * In-memory nodes on the fake mesh for the revocation tests (decision 0044):
 * a fresh network and clock for each test, the nodes it made closed after it,
 * agents with their own keys hosted by a node, and the small readers those
 * tests assert on. `net` and `clock` are live bindings: read them inside a test.
 */
import { afterEach, beforeEach, expect } from 'vitest'
import { decodeEnvelope, encodeEnvelope, envelopeId, toB64, type Envelope } from '../../node/core/index.js'
import { answerSync } from '../../node/services/sync.js'
import { FakeNetwork } from './fake-p2p.js'
import { syncNode as syncNodeOn, type SyncNode } from './sync-node.js'
import { auditEntries, FixedClock, kitAgent, type KitAgent } from './service-kit.js'

/** The fake network of the running test. */
export let net: FakeNetwork
/** The clock of the running test. */
export let clock: FixedClock
const open: SyncNode[] = []

/** Give each test of the calling file a fresh network and clock, and close its nodes after it. */
export function useRevocationMesh(): void {
  beforeEach(() => {
    net = new FakeNetwork()
    clock = new FixedClock()
  })
  afterEach(() => {
    while (open.length) open.pop()!.kit.close()
  })
}

/** A node of the running test (closed after it). */
export function syncNode(seed: string): SyncNode {
  const n = syncNodeOn(net, clock, seed)
  open.push(n)
  return n
}

/** What a node's own API would pass. */
export const LOCAL = { kind: 'local' as const }

/** An agent with its own keys hosted by `host`, known (icp, reg) on every node of `on`. */
export function hostedAgent(host: SyncNode, on: SyncNode[]): KitAgent {
  const ag = kitAgent(host.kit.random, clock.ms, { controller: host.kit.did, peerId: host.kit.peerId })
  for (const n of on) {
    for (const e of [ag.icp, ag.reg]) expect(n.kit.ingest.ingest(e, LOCAL, { fresh: false }).ok).toBe(true)
  }
  return ag
}

/** `from`'s own key log, taken up by each of `to` (as a `self` answer would). */
export function knowOwnLog(from: SyncNode, to: SyncNode[]): void {
  for (const n of to)
    for (const e of from.kit.store.keyEvents.log(from.kit.did)) n.kit.ingest.ingest(e, LOCAL, { fresh: false })
}

/** 'ok' or the error code of a verdict. */
export function code(v: { ok: boolean; error?: { code: string } }): string {
  return v.ok ? 'ok' : v.error!.code
}

/** The forgeries each peer was charged with at `n`. */
export function forgedBy(n: SyncNode): Record<string, number> {
  return Object.fromEntries(n.kit.store.misc.peerFaults().map((f) => [f.peer, f.forged]))
}

/** The peers `n` charged with a forgery. */
export function chargedPeers(n: SyncNode): string[] {
  return Object.entries(forgedBy(n))
    .filter(([, forged]) => forged > 0)
    .map(([peer]) => peer)
}

/** How many refusals `n` audited. */
export function rejections(n: SyncNode): number {
  return auditEntries(n.kit.store).filter((e) => e.kind === 'envelope.rejected').length
}

/**
 * Make `rogue` answer sync honestly but for the item with id `id`, which it
 * serves with a junk signature (the id does not cover the signature).
 */
export function serveJunkSignature(rogue: SyncNode, id: string): void {
  rogue.p2p.syncProvider = (request) =>
    [...answerSync(rogue.sync.index, request)].map((frame) => {
      let e: Envelope
      try {
        e = decodeEnvelope(frame)
      } catch {
        return frame
      }
      return envelopeId(e) === id ? encodeEnvelope({ ...e, sig: toB64(new Uint8Array(64).fill(1)) } as Envelope) : frame
    })
}
