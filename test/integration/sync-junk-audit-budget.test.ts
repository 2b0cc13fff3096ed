/**
 * A rogue sync peer that serves 32 fresh forged registrations in each round (review 99, decision 0069).
 * Before, a round charged its peer only past 32 junk items in one pass, and every refusal of a sync item was
 * an audit entry of its own: each new connection (a round runs on every one, and peer ids are free) wrote 32
 * entries into the append-only log, uncharged (10 peer ids: 320 entries; one peer id reconnecting 4 times:
 * 128, never charged). Now sync refusals share the node-wide budget of audited refusals (decision 0053), and
 * a peer's forgeries add up over its passes, rounds and connections within an hour before it is charged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRegistration, didFromPublicKey, encodeEnvelope, generateKeyPair } from '../../node/core/index.js'
import { DEFAULT_LIMITS } from '../../node/limits.js'
import type { MeshNode } from '../../node/mesh-node.js'
import type { MeshP2P, SyncRequest } from '../../node/p2p/index.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { rogueP2P } from './flood-rogue.js'

const PER_ROUND = 32
const ROGUES = 10
const PEER_ID = '12D3KooWQK1wnefoLrcVHbbnf5tLzbopUd3K3bFAoJpA7YJgL5pV'

let victim: MeshNode

beforeAll(async () => {
  victim = await startNode({ name: 'victim' })
})
afterAll(() => stopAll([victim]))

/** Registrations of fresh DIDs, each signed by a key that is not its DID's: forgeries, in page order. */
function junkPage(controller: string): Uint8Array[] {
  const items = Array.from({ length: PER_ROUND }, () => {
    const did = didFromPublicKey(generateKeyPair().publicKey)
    const init = { did, name: 'junk', capabilities: [], controller, peerId: PEER_ID, ts: Date.now() }
    return createRegistration(init, generateKeyPair())
  })
  items.sort((a, b) => (a.did < b.did ? -1 : 1))
  return items.map((r) => encodeEnvelope(r))
}

/** A registry of `PER_ROUND` items that differs from any at the root, paged out in one go. */
function* rogueRegistry(request: SyncRequest, page: Uint8Array[]): Generator<Uint8Array> {
  if (request.kind === 'fp') {
    const n = request.prefixes.length * (request.children === true ? 16 : 1)
    for (let i = 0; i < n; i++) yield Uint8Array.of(0, 0, 0, PER_ROUND, ...crypto.getRandomValues(new Uint8Array(16)))
    return
  }
  if (request.kind === 'page' && request.after === undefined) yield* page
}

function rejectedCount(): number {
  return victim.store.auditEntries
    .entries(0, victim.store.auditEntries.count())
    .filter((r) => (JSON.parse(r.entry) as { kind: string }).kind === 'envelope.rejected').length
}

const forgedBy = (peer: string): number => victim.store.misc.peerFaults().find((f) => f.peer === peer)?.forged ?? 0
const connected = (peer: string): boolean => victim.mesh.peers().some((p) => p.peerId === peer)

/** A rogue peer (its own id unless `seed` names one) that dials the victim and serves it a fresh junk page. */
async function rogueRound(name: string, seed?: Uint8Array): Promise<MeshP2P> {
  const page = junkPage(victim.did)
  const rogue = await rogueP2P(name, { ...(seed ? { seed } : {}), syncProvider: (r) => rogueRegistry(r, page) })
  await rogue.start()
  await rogue.dial(victim.info().multiaddrs[0]!)
  return rogue
}

describe('a rogue sync peer serving 32 forgeries a round', () => {
  it('writes no more audit entries than the node-wide budget, however many peer ids it uses', async () => {
    const before = rejectedCount()
    for (let i = 0; i < ROGUES; i++) {
      const rogue = await rogueRound(`junk-${i}`)
      await waitFor(() => forgedBy(rogue.peerId) >= PER_ROUND, { timeout: 15_000, message: `round ${i}` })
      await rogue.stop()
    }
    // one window's budget, and at most one summary of the window before
    expect(rejectedCount() - before).toBeLessThanOrEqual(DEFAULT_LIMITS.gossip.auditedRefusalsPerWindow + 1)
  }, 120_000)

  it('is charged once its forgeries over its connections pass 32, and refused for its backoff', async () => {
    const seed = generateKeyPair().seed
    const first = await rogueRound('same-0', seed)
    const peer = first.peerId
    await waitFor(() => forgedBy(peer) >= PER_ROUND, { timeout: 15_000, message: 'first round' })
    expect(connected(peer)).toBe(true) // 32 so far: not past the limit
    await first.stop()
    const second = await rogueRound('same-1', seed)
    await waitFor(() => forgedBy(peer) > PER_ROUND, { timeout: 15_000, message: 'second round' })
    await waitFor(() => !connected(peer), { timeout: 15_000, message: 'hung up on' })
    await second.stop()
    const third = await rogueP2P('same-2', { seed })
    await third.start()
    await expect(third.dial(victim.info().multiaddrs[0]!)).rejects.toThrow()
    await third.stop()
  }, 120_000)
})
