/**
 * Registry syncs run one at a time node-wide (docs/protocol.md §9), and peer
 * ids cost nothing: an attacker connecting under many ids whose sync handler
 * never answers held the node's one queue for a whole round budget (60 s)
 * per id, uncharged, and honest peers waited behind it. A round now takes
 * its turn only after the peer answered its first exchange, an exchange not
 * answered within `SYNC_ANSWER_MS` ends, a round holds the turn a slice at a
 * time while others wait, and starts no pass past its time; a peer that was
 * too slow is not asked again for a while. Real libp2p peers on loopback.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { encodeEnvelope } from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import type { NodeParts } from '../../node/node-state.js'
import { SYNC_ANSWER_MS, type MeshP2P, type SyncRequest } from '../../node/p2p/index.js'
import { encodeFingerprint } from '../../node/services/sync.js'
import type { SyncClient } from '../../node/services/sync-client.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { fillRegistry, signAgents } from '../helpers/registry-fill.js'
import { waitFor } from '../helpers/wait-for.js'
import { emptyRegistry, rogueP2P } from './flood-rogue.js'

const SILENT = 8
const KEEP_GOING = 3

/** A sync handler that never answers. */
const never = (): Promise<Iterable<Uint8Array>> => new Promise<Iterable<Uint8Array>>(() => undefined)

/** The node's sync client, the peers it starts rounds with, in order, and those whose rounds have not ended. */
function watchRounds(node: MeshNode): { client: SyncClient; rounds: string[]; running: Set<string> } {
  const client = (node as unknown as { parts: NodeParts }).parts.registrySync.client
  const rounds: string[] = []
  const running = new Set<string>()
  const round = client.round.bind(client)
  client.round = (peer, slice) => {
    rounds.push(peer)
    running.add(peer)
    return round(peer, slice).finally(() => running.delete(peer))
  }
  return { client, rounds, running }
}

/** `promise`, or a rejection once `ms` passed without it settling. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms)
  })
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

describe('peers that never answer a sync', () => {
  const rogues: MeshP2P[] = []
  const nodes: MeshNode[] = []
  afterAll(async () => {
    await Promise.all(rogues.map((r) => r.stop()))
    await stopAll(nodes)
  })

  it(`${SILENT} silent peer ids hold no honest peer's sync, never get a round and back off`, async () => {
    const victim = await startNode()
    nodes.push(victim)
    const { client, rounds } = watchRounds(victim)
    const addr = victim.info().multiaddrs[0]!
    for (let i = 0; i < SILENT; i++) {
      const rogue = await rogueP2P(`silent-sync-${i}`, { syncProvider: never })
      rogues.push(rogue)
      await rogue.start()
      await rogue.dial(addr)
    }
    const honest = await startNode()
    nodes.push(honest)
    const agent = await honest.registerAgent('honest-agent')
    await honest.connectPeer(addr)

    // queued behind the silent ids' syncs, a sync with the honest peer took SILENT × the 60 s round budget
    const synced = await within(victim.syncFrom(honest.mesh.peerId), SYNC_ANSWER_MS * 2)
    expect(synced).toBeDefined()
    expect(victim.agentRecord(agent.identity.did)?.name).toBe('honest-agent')
    // each silent id is asked, is left alone once it kept quiet, and never held the node-wide turn; silence
    // proves nothing: it keeps its connection (an overloaded honest peer may be slow)
    const silentIds = rogues.map((r) => r.peerId)
    await waitFor(() => silentIds.every((id) => client.isQuiet(id)), { timeout: SYNC_ANSWER_MS * 3 })
    expect(rounds.filter((peer) => silentIds.includes(peer))).toEqual([])
    expect(silentIds.filter((id) => client.isBanned(id))).toEqual([])
    expect(victim.mesh.peers().map((p) => p.peerId)).toEqual(expect.arrayContaining(silentIds))
  }, 120_000)

  it('one that answers the first exchange, then trickles, holds the turn once per doubling backoff', async () => {
    const victim = await startNode()
    nodes.push(victim)
    const { client, rounds } = watchRounds(victim)
    let skew = 0 // the client's clock, moved past its backoffs
    const clocked = client as unknown as { now: () => number }
    clocked.now = () => Date.now() + skew
    const trickling = (request: SyncRequest): Iterable<Uint8Array> =>
      request.kind === 'fp' ? emptyRegistry(request) : (trickle() as unknown as Iterable<Uint8Array>)
    const rogue = await rogueP2P('trickle-after-probe', { syncProvider: trickling })
    rogues.push(rogue)
    await rogue.start()
    await rogue.dial(victim.info().multiaddrs[0]!)

    // its key log is unknown here, so it earns a round, whose first answer never ends
    await waitFor(() => rounds.includes(rogue.peerId), { timeout: SYNC_ANSWER_MS })
    await waitFor(() => client.isQuiet(rogue.peerId), { timeout: SYNC_ANSWER_MS * 3 })
    expect(client.isBanned(rogue.peerId)).toBe(false)
    expect(victim.mesh.peers().map((p) => p.peerId)).toContain(rogue.peerId)
    // further triggers neither ask it nor give it the turn while it is left alone
    await expect(victim.syncFrom(rogue.peerId)).resolves.toBeUndefined()
    expect(rounds.filter((peer) => peer === rogue.peerId)).toHaveLength(1)

    // past the first backoff (60 s) it answers the first exchange again and gets one more turn: no answer to that
    // first exchange clears its record, so it is left alone twice as long (120 s) this time
    skew += 61_000
    expect(client.isQuiet(rogue.peerId)).toBe(false)
    await victim.syncFrom(rogue.peerId)
    expect(rounds.filter((peer) => peer === rogue.peerId)).toHaveLength(2)
    expect(client.isQuiet(rogue.peerId)).toBe(true)
    skew += 61_000
    expect(client.isQuiet(rogue.peerId)).toBe(true)
  }, 120_000)

  it(`${KEEP_GOING} that keep rounds going with quick, empty passes hold the turn a slice at a time, then are left alone`, async () => {
    const [sliceMs, roundMs] = [2_000, 12_000]
    const budget = { items: 10_000, bytes: 16 << 20, ms: 60_000, roundMs, sliceMs }
    const victim = await startNode({ init: { syncBudget: budget } })
    nodes.push(victim)
    const agents = signAgents(10, victim)
    fillRegistry(victim, agents)
    const parts = (victim as unknown as { parts: NodeParts }).parts
    const { client, rounds, running } = watchRounds(victim)
    const local = parts.registrySync.index.fingerprint('').count
    const held = encodeEnvelope(agents[0]![0]!) // an inception the victim holds: one item per pass, never new
    // per rogue, the passes the victim asked for: the honest node below may sync with the rogues too
    const passes: number[] = []
    const ids: string[] = []
    for (let i = 0; i < KEEP_GOING; i++) {
      passes.push(0)
      const provider = keepGoing(local, held, (from) => {
        if (from === victim.mesh.peerId) passes[i]!++
      })
      const rogue = await rogueP2P(`keep-going-${i}`, { syncProvider: provider as never })
      rogues.push(rogue)
      ids.push(rogue.peerId)
      await rogue.start()
      await rogue.dial(victim.info().multiaddrs[0]!)
    }
    // every one of them has had the turn (one at a time, round after round, they needed KEEP_GOING x 12 s)
    await waitFor(() => ids.every((id) => rounds.includes(id)), { timeout: roundMs * KEEP_GOING })

    const honest = await startNode()
    nodes.push(honest)
    const agent = await honest.registerAgent('honest-agent')
    await honest.connectPeer(victim.info().multiaddrs[0]!)
    // the turn passed on while their rounds went on: without slices, each held it for its round's whole time
    await expect(within(victim.syncFrom(honest.mesh.peerId), roundMs * KEEP_GOING)).resolves.toBeDefined()
    expect(victim.agentRecord(agent.identity.did)?.name).toBe('honest-agent')
    expect(ids.filter((id) => running.has(id))).toEqual(ids)

    // each round ends once it held the turn for its round's time; the peer is then left alone, not charged
    // …and its last pass has landed (under CI load one still in flight was counted after `before` below)
    await waitFor(() => ids.every((id) => client.isQuiet(id) && !running.has(id)), {
      timeout: roundMs * (KEEP_GOING + 2),
    })
    expect(ids.filter((id) => client.isBanned(id))).toEqual([])
    const before = passes[0]
    await expect(victim.syncFrom(ids[0]!)).resolves.toBeUndefined()
    expect(passes[0]).toBe(before)
  }, 120_000)
})

/**
 * Found by an attack review: a sync handler whose every answer comes just
 * under SYNC_ANSWER_MS (1 s here), whose fingerprint makes the node descend to
 * a leaf too large to list (so a pass always leaves more), whose id list names
 * nothing, and whose own key log is an item the node holds (never new).
 */
function keepGoing(local: number, held: Uint8Array, onPass: (from: string) => void) {
  return async function* answer(request: SyncRequest, from: string): AsyncGenerator<Uint8Array> {
    if (request.kind === 'self') {
      onPass(from)
      yield held
      return
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    if (request.kind !== 'fp') return
    if (request.children !== true) {
      yield encodeFingerprint({ count: Math.min(4 * local, Math.max(25, local + 2)), fp: randomBytes(16) })
      return
    }
    for (const prefix of request.prefixes)
      for (let c = 0; c < 16; c++)
        yield encodeFingerprint(
          c === 0 && prefix.length < 3 ? { count: 5_000, fp: randomBytes(16) } : { count: 0, fp: new Uint8Array(16) },
        )
  }
}

/** Sync answer items, one every 2 s, without end: a trickle that never brings an answer. */
async function* trickle(): AsyncGenerator<Uint8Array> {
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 2_000))
    yield new Uint8Array(8)
  }
}
