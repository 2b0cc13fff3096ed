/**
 * Trust cannot be pushed down or pumped up by others (issue 9, SPEC §6), on
 * every node: two real nodes and a real rogue libp2p peer. The rogue gossips
 * genuine envelopes of an agent that the nodes never stored (signed an hour
 * ago, or with the key it rotated out): the agent's score stays the same on
 * both nodes and the rogue is charged. An agent that talks to itself earns
 * nothing; a crowd of agents that talk to one another earns credit (agents
 * on one node trust each other) but never past the cap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createMessage,
  encodeEnvelope,
  generateKeyPair,
  keyPairFromB64,
  TRUST_CREDIT,
  type KeyPair,
} from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { createMeshP2P, type MeshP2P } from '../../node/p2p/index.js'
import { emptyRegistry } from './flood-rogue.js'
import { OPERATOR } from '../../node/services/authority.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'

let a: MeshNode
let b: MeshNode
let rogue: MeshP2P
const nodes = (): MeshNode[] => [a, b]
const CAPPED = (1 + TRUST_CREDIT.cap) / (2 + TRUST_CREDIT.cap)

/** An agent hosted by `host` (default node a), once both nodes know it. */
async function agent(name: string, host: MeshNode = a): Promise<{ did: string; key: KeyPair }> {
  const { identity } = await host.registerAgent(name)
  await waitFor(() => nodes().every((n) => n.agents.record(identity.did) !== undefined), { timeout: 15_000 })
  return { did: identity.did, key: keyPairFromB64(identity.privateKey) }
}

/**
 * `n` messages from `from` (sent by the node hosting it) to `to`, each
 * delivered with a receipt: a direct message reaches only its recipient's
 * node (docs/protocol.md §10), so each node scores the traffic it witnessed.
 */
async function send(from: string, to: string | null, n: number): Promise<void> {
  const node = a.agents.record(from)?.origin === 'local' ? a : b
  for (let i = 0; i < n; i++)
    await node.sendMessage({ authority: OPERATOR, fromDid: from, toDid: to, message: `#${i}` })
  await waitFor(() => nodes().every((x) => x.undelivered() === 0), { timeout: 15_000 })
}

const score = (n: MeshNode, did: string): number => n.trust.agent(did).score
const rogueFailures = (n: MeshNode): number => n.trust.peer(rogue.peerId).failures

beforeAll(async () => {
  a = await startNode()
  b = await startNode({ peers: [a.info().multiaddrs[0]!] })
  rogue = await createMeshP2P({
    seed: generateKeyPair().seed,
    transports: 'memory',
    listen: [`/memory/trust-attack-rogue-${process.pid}-${Date.now()}`],
    validate: () => 'accept',
    onMessage: () => undefined,
    syncProvider: emptyRegistry,
    heartbeatInterval: 200,
  })
  await rogue.start()
  for (const n of [a, b]) await rogue.dial(n.info().multiaddrs[0]!)
  await waitFor(() => [a, b].every((n) => rogue.subscribers('meshsig/v1/messages').includes(n.mesh.peerId)), {
    timeout: 15_000,
  })
}, 60_000)

afterAll(async () => {
  await rogue?.stop()
  await stopAll([a, b])
})

describe('replays by a third party', () => {
  it('leave the signer’s score unchanged on every node; the delivering peer is charged', async () => {
    const victim = await agent('victim')
    const peer = await agent('peer', b)
    await send(victim.did, peer.did, 3)
    const before = nodes().map((n) => score(n, victim.did))
    expect(before[0]).toBeGreaterThan(0.5)
    expect(before[1]).toBe(before[0])
    const old = (body: string, ts: number, key: KeyPair) =>
      createMessage({ from: victim.did, to: peer.did, body, ts, nonce: generateKeyPair().seed.slice(0, 16) }, key)
    // genuine envelopes the victim signed an hour ago, which neither node ever stored
    const stale = [1, 2, 3, 4, 5, 6].map((i) => old(`an hour ago ${i}`, Date.now() - 3_600_000, victim.key))
    // and ones signed with the key it has since rotated out
    const unsent = [1, 2].map((i) => old(`before rotating ${i}`, Date.now(), victim.key))
    await a.rotateAgent({ authority: OPERATOR, did: victim.did })
    await waitFor(() => b.keyView(victim.did).keySeq === 1, { timeout: 15_000 })
    const charged = nodes().map(rogueFailures)
    for (const e of [...stale, ...unsent]) await rogue.publish('meshsig/v1/messages', encodeEnvelope(e))
    await waitFor(() => nodes().every((n, i) => rogueFailures(n) === charged[i]! + 8), { timeout: 15_000 })
    for (const [i, n] of nodes().entries()) {
      expect(score(n, victim.did)).toBe(before[i])
      expect(n.trust.agent(victim.did).failures).toBe(0)
    }
  })
})

describe('pumping', () => {
  it('an agent talking to itself earns nothing on any node', async () => {
    const narcissus = await agent('narcissus')
    await send(narcissus.did, narcissus.did, 30)
    for (const n of nodes()) expect(score(n, narcissus.did)).toBe(0.5)
  })

  it('a crowd talking among itself earns credit, never past the cap, on every node', async () => {
    // half the crowd on each node: each node witnesses (and credits) the pairs that cross it
    const crowd = [await agent('c1'), await agent('c2', b), await agent('c3'), await agent('c4', b)]
    for (const x of crowd) for (const y of crowd) if (x !== y) await send(x.did, y.did, 12)
    for (const n of nodes()) {
      for (const x of crowd) {
        expect(score(n, x.did)).toBeGreaterThan(0.5)
        expect(score(n, x.did)).toBeLessThanOrEqual(CAPPED)
      }
    }
    // more talk changes nothing once every pair's credit is spent
    const spent = nodes().map((n) => crowd.map((x) => score(n, x.did)))
    await send(crowd[0]!.did, crowd[1]!.did, 10)
    expect(nodes().map((n) => crowd.map((x) => score(n, x.did)))).toEqual(spent)
  })
})
