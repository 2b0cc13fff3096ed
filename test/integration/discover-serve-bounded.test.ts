/**
 * Attack review 91, F1 (decision 0060): a peer's `/meshsig/discover/1.0.0` request is answered from the node's
 * own agents alone, read in SQL with a limit, and within a per-peer budget (docs/protocol.md §9, "Capability
 * discovery"). Before, the answer ranked every stored holder of the type, remote ones too, kept the best 100
 * and only then the node's own: 100 free registrations of a type gossiped by a rogue hid the node's own agents
 * of it, and one request at 20,000 holders held the event loop for 1.7 s, as often as any peer asked.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  createRegistration,
  decodeEnvelope,
  didFromPublicKey,
  encodeEnvelope,
  generateKeyPair,
  utf8,
  type RegEnvelope,
} from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import type { MeshP2P } from '../../node/p2p/index.js'
import type { Discovery } from '../../node/services/discovery.js'
import type { Ingest } from '../../node/services/ingest.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { rogueP2P } from './flood-rogue.js'

const REGISTRY = 'meshsig/v1/registry'
const DISCOVER = '/meshsig/discover/1.0.0'
const SERVED = 4
let node: MeshNode
let rogue: MeshP2P

beforeAll(async () => {
  node = await startNode()
  rogue = await rogueP2P('discover-serve')
  await rogue.start()
  await rogue.dial(node.info().multiaddrs[0]!)
  await waitFor(() => rogue.subscribers(REGISTRY).includes(node.mesh.peerId), { timeout: 15_000 })
}, 60_000)

afterAll(async () => {
  await rogue?.stop()
  await stopAll([node])
})

function parts(n: MeshNode): { discovery: Discovery; ingest: Ingest } {
  return (n as unknown as { parts: { discovery: Discovery; ingest: Ingest } }).parts
}

/** The DIDs `target` names to `from` for `capability`. */
async function ask(from: MeshP2P, target: MeshNode, capability: string): Promise<string[]> {
  const res = await from.request(target.mesh.peerId, DISCOVER, utf8(JSON.stringify({ capability, minConfidence: 0 })))
  const items = JSON.parse(Buffer.from(res).toString('utf8')) as string[]
  return items.map((i) => (decodeEnvelope(i) as RegEnvelope).did)
}

/** A registration of a fresh DID holding `type`, hosted by `peerId` (free for anyone to make). */
function strangerHolding(type: string, i: number, peerId: string): RegEnvelope {
  const key = generateKeyPair()
  const did = didFromPublicKey(key.publicKey)
  const controller = didFromPublicKey(generateKeyPair().publicKey)
  return createRegistration(
    { did, name: `stranger-${i}`, capabilities: [{ type }], controller, peerId, ts: Date.now() },
    key,
  )
}

/**
 * Counts what the store hands back to the node while `fn` runs: one per call of a method of the agents, key
 * events and trust repositories, plus one per row of every list one returns.
 */
function storeReads<T>(n: MeshNode, fn: () => T): { result: T; reads: number } {
  let reads = 0
  type Methods = Record<string, (...args: unknown[]) => unknown>
  const spies = [n.store.agents, n.store.keyEvents, n.store.trust].flatMap((repo) => {
    const target = repo as unknown as Methods
    const proto = Object.getPrototypeOf(repo) as Methods
    return Object.getOwnPropertyNames(proto)
      .filter((name) => name !== 'constructor' && typeof proto[name] === 'function')
      .map((name) => {
        const original = proto[name]!
        return vi.spyOn(target, name).mockImplementation((...args: unknown[]) => {
          const out = original.apply(repo, args)
          reads += 1 + (Array.isArray(out) ? out.length : 0)
          return out
        })
      })
  })
  try {
    return { result: fn(), reads }
  } finally {
    for (const spy of spies) spy.mockRestore()
  }
}

describe('/meshsig/discover/1.0.0 served to a peer', () => {
  it("names the node's own agents of a type whatever a rogue registers with it", async () => {
    const own = await node.registerAgent('honest-payer', [{ type: 'pay' }])
    const ownDid = own.identity.did
    expect(await ask(rogue, node, 'pay')).toEqual([ownDid])

    // 100 valid registrations of fresh DIDs holding 'pay', each as trusted as the own agent and newer
    for (let i = 0; i < 100; i++) await rogue.publish(REGISTRY, encodeEnvelope(strangerHolding('pay', i, rogue.peerId)))
    await waitFor(() => node.store.agents.countMatching({ capability: 'pay' }) >= 101, { timeout: 30_000 })

    expect(node.store.agents.get(ownDid)?.origin).toBe('local')
    expect(await ask(rogue, node, 'pay')).toEqual([ownDid])
    expect(node.discoverAgents('pay', 0, 1_000)).toHaveLength(101) // the operator's POST /discover still sees all
    const network = await node.discoverNetwork('pay', 0, 50)
    expect(network.local.map((a) => a.did)).toEqual([ownDid])
  }, 90_000)

  it('reads as much of the store for one request whatever number of other agents hold the type', async () => {
    const own = await node.registerAgent('honest-chat', [{ type: 'chat' }])
    const { discovery, ingest } = parts(node)
    const request = utf8(JSON.stringify({ capability: 'chat' }))
    const alone = storeReads(node, () => discovery.answer(request, rogue.peerId))

    const regs = Array.from({ length: 1_000 }, (_, i) => strangerHolding('chat', i, rogue.peerId))
    node.store.transaction(() => {
      for (const r of regs) ingest.ingest(r, { kind: 'sync', peer: rogue.peerId }, { fresh: false })
    })
    expect(node.store.agents.countMatching({ capability: 'chat' })).toBe(1_001)
    const crowded = storeReads(node, () => discovery.answer(request, rogue.peerId))

    const named = (answer: Uint8Array) =>
      (JSON.parse(Buffer.from(answer).toString('utf8')) as string[]).map((i) => (decodeEnvelope(i) as RegEnvelope).did)
    expect(crowded.reads).toBe(alone.reads) // before the fix: 1,000 holders more meant thousands of reads more
    expect(crowded.reads).toBeLessThan(20)
    expect(named(alone.result)).toEqual([own.identity.did])
    expect(named(crowded.result)).toEqual([own.identity.did])
    expect(await Promise.all(Array.from({ length: 16 }, () => ask(rogue, node, 'chat')))).toEqual(
      Array.from({ length: 16 }, () => [own.identity.did]),
    )
  }, 120_000)

  it('answers one peer at most limits.discovery.servedPerPeer requests per window, junk included', async () => {
    const tight = await startNode({ init: { limits: { discovery: { servedPerPeer: SERVED } } } })
    const other = await rogueP2P('discover-serve-other')
    try {
      await other.start()
      for (const p of [rogue, other]) await p.dial(tight.info().multiaddrs[0]!)
      const own = await tight.registerAgent('served', [{ type: 'search' }])
      for (let i = 0; i < SERVED - 1; i++) expect(await ask(rogue, tight, 'search')).toEqual([own.identity.did])
      await expect(rogue.request(tight.mesh.peerId, DISCOVER, utf8('not json'))).rejects.toMatchObject({
        details: { remoteCode: 'MALFORMED' },
      })
      await expect(ask(rogue, tight, 'search')).rejects.toMatchObject({ details: { remoteCode: 'RATE_LIMITED' } })
      expect(await ask(other, tight, 'search')).toEqual([own.identity.did]) // another peer has its own budget
    } finally {
      await other.stop()
      await stopAll([tight])
    }
  }, 90_000)
})
