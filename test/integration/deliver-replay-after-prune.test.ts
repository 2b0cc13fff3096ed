/**
 * One delivered envelope id is one verified message, whenever it is delivered
 * again (docs/protocol.md §10, SPEC §3 and §6; attack review 104, L1;
 * decision 0076). Delivery took a recipient whose registration from the mesh
 * named this node's PeerId, while relay retention deleted its messages after
 * 24 h, and the delivery window (24 h 5 min, either way) still took them: the
 * same bytes delivered again after the prune were a second `envelope.accepted`
 * entry and a second credit for the sender, and a message dated 23 h ahead
 * could be taken again 19 h after its prune. Now delivery takes only the
 * node's own agents, whose messages retention keeps, and a message dated no
 * further ahead than the clock window. A rogue libp2p peer delivers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createInception,
  createMessage,
  createRegistration,
  encodeEnvelope,
  envelopeId,
  generateKeyPair,
  type Envelope,
  type KeyPair,
} from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import type { MeshP2P } from '../../node/p2p/index.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { gossipMarker, rogueP2P } from './flood-rogue.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
/** How far the node's clock is moved ahead of the wall clock. */
let offset = 0
let n: MeshNode
let rogue: MeshP2P

beforeAll(async () => {
  n = await startNode({ init: { clock: () => Date.now() + offset, limits: { relay: { pruneIntervalMs: 50 } } } })
  rogue = await rogueP2P('deliver-replay')
  await rogue.start()
  await rogue.dial(n.info().multiaddrs[0]!)
  await waitFor(() => rogue.subscribers('meshsig/v1/registry').includes(n.mesh.peerId), { timeout: 15_000 })
}, 60_000)

afterAll(async () => {
  await rogue?.stop()
  await stopAll([n])
})

/** A DID's inception and registration naming `peerId` as its host, signed (gossip them to register it). */
function signed(name: string, peerId: string): { key: KeyPair; did: string; envelopes: Envelope[] } {
  const key = generateKeyPair()
  const icp = createInception(key, Date.now())
  const reg = createRegistration(
    { did: icp.did, name, capabilities: [], controller: icp.did, peerId, ts: Date.now() },
    key,
  )
  return { key, did: icp.did, envelopes: [icp, reg] }
}

/** Gossip a registration from the rogue and wait until the node stores its agent. */
async function register(r: { did: string; envelopes: Envelope[] }): Promise<void> {
  for (const e of r.envelopes) await rogue.publish('meshsig/v1/registry', encodeEnvelope(e))
  await waitFor(() => n.store.agents.get(r.did), { timeout: 15_000, message: `${r.did} registered` })
}

/** A direct message from `from` to `to`, dated `ts`. */
function message(from: { key: KeyPair; did: string }, to: string, body: string, ts: number): Envelope {
  const nonce = crypto.getRandomValues(new Uint8Array(16))
  return createMessage({ from: from.did, to, body, ts, nonce }, from.key)
}

/** Deliver `env` from the rogue: the receipt (as JSON), or the refusal's code. */
async function deliver(env: Envelope): Promise<string> {
  const answer = JSON.parse(Buffer.from(await rogue.deliver(n.mesh.peerId, encodeEnvelope(env))).toString()) as {
    receipt?: unknown
    refused?: { code: string }
  }
  return answer.receipt !== undefined ? JSON.stringify(answer.receipt) : (answer.refused?.code ?? 'none')
}

/** The node's `envelope.accepted` audit entries of envelope `id`. */
function acceptedEntriesOf(id: string): number {
  const rows = n.store.auditEntries.entries(0, n.store.auditEntries.count())
  return rows
    .map((r) => JSON.parse(r.entry) as { kind: string; envelopeId: string | null })
    .filter((e) => e.kind === 'envelope.accepted' && e.envelopeId === id).length
}

/** The sender's trust credit as a DID. */
function creditOf(did: string): number {
  return n.store.trust.get('did', did).successes
}

describe('a delivered envelope id is accepted once', () => {
  it('a recipient whose registration from the mesh names this node is not hosted here: nothing is taken', async () => {
    const sender = signed('sender', rogue.peerId)
    const named = signed('names-n', n.mesh.peerId) // anyone can sign a registration naming this node
    await register(sender)
    await register(named)
    expect(n.store.agents.get(named.did)?.origin).toBe('remote')
    const msg = message(sender, named.did, 'pay 10', Date.now() + offset)
    const id = envelopeId(msg)
    const before = n.store.auditEntries.count()
    expect(await deliver(msg)).toBe('NOT_FOUND')
    expect(await deliver(msg)).toBe('NOT_FOUND')
    expect({ stored: n.store.messages.exists(id), audited: n.store.auditEntries.count() - before }).toEqual({
      stored: false,
      audited: 0,
    })
    expect(creditOf(sender.did)).toBe(0)
  }, 60_000)

  it('a message delivered to an agent of this node outlives retention: delivered a day later, it is a duplicate', async () => {
    const sender = signed('sender-2', rogue.peerId)
    await register(sender)
    const inbox = (await n.registerAgent('inbox')).identity.did
    // a relayed broadcast, which retention deletes after its 24 h: its prune shows that retention ran
    const marker = `relayed ${Date.now()}`
    await gossipMarker(rogue, n, sender.key, sender.did, marker)
    const relayed = n.store.messages.list({ did: sender.did }).find((m) => m.envelope.body === marker)!.id

    const msg = message(sender, inbox, 'pay 10', Date.now() + offset)
    const id = envelopeId(msg)
    const receipt = await deliver(msg)
    expect(receipt).toMatch(/^\{/)
    expect(acceptedEntriesOf(id)).toBe(1)
    const credit = creditOf(sender.did)
    expect(credit).toBeGreaterThan(0)

    offset += DAY + 2 * MINUTE // still inside the delivery window of 24 h + 5 min
    await waitFor(() => !n.store.messages.exists(relayed), { timeout: 10_000, message: 'relayed copy pruned' })
    expect(n.store.messages.exists(id)).toBe(true)
    expect(await deliver(msg)).toBe(receipt) // the receipt issued before
    expect({ accepted: acceptedEntriesOf(id), credit: creditOf(sender.did) }).toEqual({ accepted: 1, credit })
  }, 60_000)

  it('a message may be as old as the outbox expiry, but dated ahead no further than the clock window', async () => {
    const sender = signed('sender-3', rogue.peerId)
    await register(sender)
    const inbox = (await n.registerAgent('inbox-3')).identity.did
    const now = Date.now() + offset
    expect(await deliver(message(sender, inbox, 'retried for 23 h', now - 23 * HOUR))).toMatch(/^\{/)
    expect(await deliver(message(sender, inbox, 'within the skew', now + 2 * MINUTE))).toMatch(/^\{/)
    const ahead = [
      message(sender, inbox, '10 min ahead', now + 10 * MINUTE),
      message(sender, inbox, '23 h ahead', now + 23 * HOUR),
    ]
    const before = n.store.auditEntries.count()
    for (const msg of ahead) expect(await deliver(msg)).toBe('CLOCK_SKEW')
    expect(ahead.filter((msg) => n.store.messages.exists(envelopeId(msg)))).toEqual([])
    expect(n.store.auditEntries.count() - before).toBe(0) // refused before the acceptance rules, as §10 lists
  }, 60_000)
})
