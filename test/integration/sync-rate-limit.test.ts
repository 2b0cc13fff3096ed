/**
 * Registry syncs are rate-limited per peer: gossip with an unknown signer is
 * free to forge, and each sync pulls the peer's whole registry. Triggers
 * inside MIN_SYNC_INTERVAL_MS are coalesced into one follow-up sync.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createInception, encodeEnvelope, generateKeyPair, MeshsigError } from '../../node/core/index.js'
import { NodeEvents } from '../../node/events.js'
import { MeshGossip, MIN_SYNC_INTERVAL_MS, type MeshGossipComponents } from '../../node/services/mesh-gossip.js'
import { memoryStore } from '../helpers/service-kit.js'
import { waitFor } from '../helpers/wait-for.js'

function fail(why: string): never {
  throw new Error(why)
}

/** A MeshGossip over a fake p2p whose sync counts calls per peer; ingest answers UNKNOWN_SIGNER. */
function gossipWithFakeSync(minSyncIntervalMs?: number) {
  const calls = new Map<string, number>()
  let inFlight = 0
  let maxInFlight = 0
  const sync: MeshGossipComponents['sync'] = {
    isBanned: () => false,
    charge: () => undefined,
    sliceMs: 5_000,
    probe: () => Promise.resolve('differs'),
    round: async (peerId: string) => {
      calls.set(peerId, (calls.get(peerId) ?? 0) + 1)
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      await new Promise((r) => setTimeout(r, 20))
      inFlight--
      return { accepted: 0, duplicates: 0, rejected: 0, held: 0, bytes: 0, passes: 1 }
    },
  }
  const unknown = () => ({ ok: false as const, error: new MeshsigError('UNKNOWN_SIGNER', 'unknown signer') })
  const ingest: MeshGossipComponents['ingest'] = { ingest: unknown, check: unknown, refuse: (v) => v }
  const components: MeshGossipComponents = {
    store: memoryStore(),
    ingest,
    sync,
    audit: { record: () => fail('no peer arrives in this test: nothing to audit') },
    events: new NodeEvents(),
    outbox: { publish: () => Promise.resolve(0) },
    onError: () => undefined,
    ...(minSyncIntervalMs !== undefined ? { minSyncIntervalMs } : {}),
  }
  const gossip = new MeshGossip(components)
  return { gossip, calls, count: (peer: string) => calls.get(peer) ?? 0, maxInFlight: () => maxInFlight }
}

/** A well-formed registry envelope by a signer nobody knows (what an attacker gossips for free). */
function forgedInception(): Uint8Array {
  return encodeEnvelope(createInception(generateKeyPair(), Date.now()))
}

describe('registry sync rate limit per peer', () => {
  let stop: (() => void) | undefined
  afterEach(() => {
    stop?.()
    stop = undefined
  })

  it('the default interval is a few seconds', () => {
    expect(MIN_SYNC_INTERVAL_MS).toBeGreaterThanOrEqual(1000)
  })

  it('50 rapid gossip triggers for one peer start one sync now and at most one follow-up', async () => {
    const fx = gossipWithFakeSync()
    stop = () => fx.gossip.stop()
    for (let i = 0; i < 50; i++)
      expect(fx.gossip.validate('meshsig/v1/registry', forgedInception(), 'peer-a')).toBe('ignore')
    await waitFor(() => fx.count('peer-a') === 1)
    // the follow-up waits for the interval: nothing more starts meanwhile
    await Promise.all(Array.from({ length: 50 }, () => void fx.gossip.syncFrom('peer-a')))
    expect(fx.count('peer-a')).toBe(1)
    expect(fx.maxInFlight()).toBe(1)
  })

  it('triggers inside the interval are coalesced into exactly one follow-up sync (a real gap is still filled)', async () => {
    const fx = gossipWithFakeSync(300)
    stop = () => fx.gossip.stop()
    const results = Array.from({ length: 50 }, () => fx.gossip.syncFrom('peer-a'))
    const settled = await Promise.all(results)
    expect(settled.every((r) => r !== undefined)).toBe(true)
    expect(fx.count('peer-a')).toBe(2)
    expect(fx.maxInFlight()).toBe(1)
    // a later trigger, once the interval passed, syncs again
    await waitFor(async () => (await fx.gossip.syncFrom('peer-a')) !== undefined && fx.count('peer-a') === 3)
    expect(fx.count('peer-a')).toBe(3)
  })

  it('triggers for two different peers each sync', async () => {
    const fx = gossipWithFakeSync()
    stop = () => fx.gossip.stop()
    const [a, b] = await Promise.all([fx.gossip.syncFrom('peer-a'), fx.gossip.syncFrom('peer-b')])
    expect(a).toMatchObject({ accepted: 0, duplicates: 0, rejected: 0 })
    expect(b).toMatchObject({ accepted: 0, duplicates: 0, rejected: 0 })
    expect(fx.count('peer-a')).toBe(1)
    expect(fx.count('peer-b')).toBe(1)
  })

  it('stop cancels a scheduled follow-up', async () => {
    const fx = gossipWithFakeSync()
    await fx.gossip.syncFrom('peer-a')
    const later = fx.gossip.syncFrom('peer-a')
    fx.gossip.stop()
    expect(await later).toBeUndefined()
    expect(fx.count('peer-a')).toBe(1)
  })
})
