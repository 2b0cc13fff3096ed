/**
 * The responder side of `/meshsig/handshake/1.0.0` is bounded (docs/protocol.md §9, "Handshakes"; attack
 * review 91, F2). A rogue libp2p peer with one fresh DID ran 300 handshakes with a custodied agent of an honest
 * node: each made the node sign with the agent's key, store a connection and append a `handshake` audit entry.
 * Now a peer has a budget of challenges per window (past it `RATE_LIMITED`, nothing signed), and a repeat
 * handshake of one pair within the repeat window answers with the connection stored, with no new row and no
 * new audit entry. A handshake after the window, or under a rotated key, is stored again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createInception,
  createRegistration,
  encodeEnvelope,
  generateKeyPair,
  toB64,
  utf8,
  type KeyPair,
} from '../../node/core/index.js'
import { DEFAULT_LIMITS } from '../../node/limits.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { HANDSHAKE_PROTOCOL, type MeshP2P } from '../../node/p2p/index.js'
import { OPERATOR } from '../../node/services/authority.js'
import { signProof, type HandshakeProof } from '../../node/services/handshake-service.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { rogueP2P } from './flood-rogue.js'

const REGISTRY = 'meshsig/v1/registry'
const ROUNDS = 300

const nonce = (): string => toB64(crypto.getRandomValues(new Uint8Array(16)))

/** Handshake entries in `node`'s audit log. */
function handshakeEntries(node: MeshNode): number {
  return node.store.auditEntries
    .entries(0, 1_000_000)
    .filter((r) => (JSON.parse(r.entry) as { kind: string }).kind === 'handshake').length
}

describe('a rogue peer running handshake after handshake with a custodied agent', () => {
  let a: MeshNode
  let rogue: MeshP2P

  beforeAll(async () => {
    a = await startNode()
    rogue = await rogueP2P('hs-flood')
    await rogue.start()
    await rogue.dial(a.info().multiaddrs[0]!)
    await waitFor(() => rogue.subscribers(REGISTRY).includes(a.mesh.peerId), { timeout: 15_000 })
  }, 60_000)

  afterAll(async () => {
    await rogue?.stop()
    await stopAll([a])
  })

  /** One fresh DID of the rogue's, known to `a` (its inception and registration gossiped). */
  async function rogueDid(): Promise<{ did: string; key: KeyPair }> {
    const key = generateKeyPair()
    const icp = createInception(key, Date.now(), generateKeyPair())
    const reg = createRegistration(
      { did: icp.did, name: 'rogue', capabilities: [], controller: icp.did, peerId: rogue.peerId, ts: Date.now() },
      key,
    )
    await rogue.publish(REGISTRY, encodeEnvelope(reg))
    await rogue.publish(REGISTRY, encodeEnvelope(icp))
    await waitFor(() => a.store.keyEvents.state(icp.did) !== undefined, { timeout: 15_000 })
    return { did: icp.did, key }
  }

  async function call(body: unknown): Promise<Record<string, unknown>> {
    const res = await rogue.request(a.mesh.peerId, HANDSHAKE_PROTOCOL, utf8(JSON.stringify(body)))
    return JSON.parse(Buffer.from(res).toString('utf8')) as Record<string, unknown>
  }

  /** One whole handshake from `from` to `to`: the id the node answered, or the code it refused with. */
  async function round(from: { did: string; key: KeyPair }, to: string): Promise<{ id?: string; code?: string }> {
    const mine = nonce()
    let proof: HandshakeProof
    try {
      ;({ proof } = (await call({ step: 'challenge', from: from.did, to, nonce: mine, ts: Date.now() })) as {
        proof: HandshakeProof
      })
    } catch (err) {
      return { code: String((err as { details?: { remoteCode?: unknown } }).details?.remoteCode) }
    }
    const initiator = signProof(
      {
        v: 1,
        type: 'hs',
        role: 'initiator',
        did: from.did,
        peer: to,
        challenge: proof.nonce,
        nonce: mine,
        ts: Date.now(),
      },
      from.key,
    )
    const answer = await call({ step: 'confirm', transcript: { v: 1, initiator, responder: proof } })
    return { id: answer.id as string }
  }

  it('300 rounds of one DID store one connection and one audit entry; past the budget, RATE_LIMITED', async () => {
    const victim = (await a.registerAgent('custodied')).identity.did
    const from = await rogueDid()
    const auditBefore = a.store.auditEntries.count()
    const connBefore = a.store.auditEntries.connectionCount()
    const answers = []
    for (let i = 0; i < ROUNDS; i++) answers.push(await round(from, victim))

    expect(a.store.auditEntries.connectionCount() - connBefore, 'connections stored').toBe(1)
    expect(a.store.auditEntries.count() - auditBefore, 'audit entries').toBe(1)
    const ids = new Set(answers.flatMap((x) => (x.id === undefined ? [] : [x.id])))
    expect(ids.size, 'every answered round names the one stored connection').toBe(1)
    const budget = DEFAULT_LIMITS.handshake.perPeerChallenges
    expect(answers.filter((x) => x.id !== undefined)).toHaveLength(budget)
    expect(answers.slice(budget).map((x) => x.code)).toEqual(Array(ROUNDS - budget).fill('RATE_LIMITED'))
  }, 120_000)

  it('the budget is the peer’s: an honest node still hand-shakes with the same agent, once into the log', async () => {
    const victim = (await a.registerAgent('still-served')).identity.did
    const b = await startNode({ peers: [a.info().multiaddrs[0]!] })
    try {
      const z = (await b.registerAgent('honest')).identity.did
      await waitFor(() => b.store.agents.get(victim) !== undefined && a.store.keyEvents.state(z) !== undefined, {
        timeout: 15_000,
      })
      const before = handshakeEntries(a)
      const shake = () => b.handshake({ fromDid: z, toDid: victim, authority: OPERATOR })
      const c = await shake()
      expect(a.store.auditEntries.connections().map((x) => x.id)).toContain(c.id)
      expect([handshakeEntries(a), handshakeEntries(b)]).toEqual([before + 1, 1])
      // again within the window: both nodes answer with the connection they stored, and write nothing
      expect(await shake()).toEqual(c)
      expect([handshakeEntries(a), handshakeEntries(b)]).toEqual([before + 1, 1])
    } finally {
      await stopAll([b])
    }
  }, 60_000)
})

describe('a repeat handshake of one pair', () => {
  let node: MeshNode
  let skew = 0

  beforeAll(async () => {
    node = await startNode({ init: { clock: () => Date.now() + skew } })
  }, 60_000)

  afterAll(async () => {
    await stopAll([node])
  })

  it('within the window answers the stored connection; after it, or under a rotated key, is stored again', async () => {
    const x = (await node.registerAgent('x')).identity.did
    const y = (await node.registerAgent('y')).identity.did
    const shake = (fromDid: string, toDid: string) => node.handshake({ fromDid, toDid, authority: OPERATOR })
    const first = await shake(x, y)
    const entries = handshakeEntries(node)

    const again = await shake(x, y)
    expect(again).toEqual(first)
    expect(handshakeEntries(node)).toBe(entries)
    expect(node.store.auditEntries.connectionCount()).toBe(1)

    // the other direction is another connection
    expect((await shake(y, x)).id).not.toBe(first.id)
    expect(handshakeEntries(node)).toBe(entries + 1)

    // the stored transcript no longer verifies under x's current key: a handshake under the new one is news
    await node.rotateAgent({ did: x, authority: OPERATOR })
    const rotated = await shake(x, y)
    expect(rotated.id).not.toBe(first.id)
    expect(handshakeEntries(node)).toBe(entries + 2)
    expect((await shake(x, y)).id).toBe(rotated.id)

    skew += DEFAULT_LIMITS.handshake.repeatWindowMs
    const later = await shake(x, y)
    expect(later.id).not.toBe(rotated.id)
    expect(handshakeEntries(node)).toBe(entries + 3)
    expect(node.store.auditEntries.connectionCount()).toBe(4)
  }, 60_000)
})
