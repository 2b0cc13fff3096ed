/**
 * Flooding (issue 9): a real rogue libp2p peer publishes valid meshsig
 * messages on meshsig/v1/messages. From DIDs that never registered, ten
 * thousand of them are neither stored, audited nor relayed by the victim,
 * and what it holds for them stays within its configured window. From
 * registered DIDs, the victim accepts (and relays) no more than the budgets
 * of the sender and of the origin peer. A message whose registration
 * arrives just after it is kept briefly and then accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createInception,
  createMessage,
  createRegistration,
  encodeEnvelope,
  envelopeId,
  generateKeyPair,
  type KeyPair,
  type MsgEnvelope,
} from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { createMeshP2P, type MeshP2P } from '../../node/p2p/index.js'
import { emptyRegistry } from './flood-rogue.js'
import { OPERATOR } from '../../node/services/authority.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'

const TOPIC = 'meshsig/v1/messages'
const relay = { perPeerMessages: 50, perDidMessages: 20, pendingMessages: 16, pendingBytes: 16 * 1024 }

let a: MeshNode
let b: MeshNode
let rogue: MeshP2P
let counter = 0

function message(key: KeyPair, did: string, to: string | null = null): MsgEnvelope {
  const nonce = new Uint8Array(16)
  new DataView(nonce.buffer).setUint32(0, ++counter)
  return createMessage({ from: did, to, body: `flood ${counter}`, ts: Date.now(), nonce }, key)
}

/** A DID registered by the rogue itself (icp + reg gossiped on the registry topic). */
async function registerRogueAgent(name: string): Promise<{ key: KeyPair; did: string }> {
  const key = generateKeyPair()
  const icp = createInception(key, Date.now())
  const reg = createRegistration(
    { did: icp.did, name, capabilities: [], controller: icp.did, peerId: rogue.peerId, ts: Date.now() },
    key,
  )
  await rogue.publish('meshsig/v1/registry', encodeEnvelope(icp))
  await rogue.publish('meshsig/v1/registry', encodeEnvelope(reg))
  await waitFor(() => a.agents.record(icp.did) !== undefined && b.agents.record(icp.did) !== undefined, {
    timeout: 15_000,
  })
  return { key, did: icp.did }
}

/** A rogue libp2p peer subscribed with `a` (its own origin budget). */
async function startRogue(name: string): Promise<MeshP2P> {
  const r = await createMeshP2P({
    seed: generateKeyPair().seed,
    transports: 'memory',
    listen: [`/memory/flood-${name}-${process.pid}-${Date.now()}`],
    validate: () => 'accept',
    onMessage: () => undefined,
    syncProvider: emptyRegistry,
    heartbeatInterval: 200,
  })
  rogues.push(r)
  await r.start()
  await r.dial(a.info().multiaddrs[0]!)
  await waitFor(() => r.subscribers(TOPIC).includes(a.mesh.peerId), { timeout: 15_000 })
  return r
}
const rogues: MeshP2P[] = []

beforeAll(async () => {
  a = await startNode({ init: { limits: { relay } } })
  b = await startNode({ peers: [a.info().multiaddrs[0]!], init: { limits: { relay } } })
  rogue = await startRogue('rogue')
  await waitFor(() => a.mesh.meshPeers(TOPIC).includes(b.mesh.peerId), { timeout: 15_000 })
}, 60_000)

afterAll(async () => {
  await Promise.all(rogues.map((r) => r.stop()))
  await stopAll([a, b])
})

describe('a flood of valid messages', () => {
  it('from 10 000 messages of unregistered DIDs: nothing stored, audited or relayed; the held window stays bounded', async () => {
    const before = { messages: a.stats().messages, audit: a.store.auditEntries.count(), bMessages: b.stats().messages }
    const senders = Array.from({ length: 100 }, () => {
      const key = generateKeyPair()
      return { key, did: createInception(key, 0).did }
    })
    for (let i = 0; i < 10_000; i++) {
      const s = senders[i % senders.length]!
      await rogue.publish(TOPIC, encodeEnvelope(message(s.key, s.did)))
    }
    await waitFor(() => a.relayStats().dropped.unregistered >= 10_000, { timeout: 120_000 })
    expect(a.stats().messages).toBe(before.messages)
    const flooders = new Set(senders.map((s) => s.did))
    const entries = a.store.auditEntries.entries(before.audit, a.store.auditEntries.count() - before.audit)
    expect(entries.filter((r) => flooders.has((JSON.parse(r.entry) as { subject: string }).subject))).toEqual([])
    expect(entries.length).toBeLessThan(10) // peer and checkpoint entries only
    const held = a.relayStats().held
    expect(held.messages).toBeLessThanOrEqual(relay.pendingMessages)
    expect(held.bytes).toBeLessThanOrEqual(relay.pendingBytes)
    // nothing was forwarded: a message a publishes after the flood reaches b, none of the flood did
    const own = await a.registerAgent('sentinel')
    const sentinel = await a.sendMessage({
      authority: OPERATOR,
      fromDid: own.identity.did,
      toDid: null,
      message: 'after',
    })
    await waitFor(() => b.store.messages.exists(sentinel.id), { timeout: 15_000 })
    expect(b.stats().messages).toBe(before.bMessages + 1)
  }, 180_000)

  it('from registered DIDs: no node accepts or relays more than the per-DID and per-origin-peer budgets', async () => {
    const senders = [await registerRogueAgent('f1'), await registerRogueAgent('f2'), await registerRogueAgent('f3')]
    const nodes = [a, b]
    const before = nodes.map((n) => ({ stored: n.stats().messages, drops: n.relayStats().dropped }))
    const ids: string[] = []
    for (const s of senders) {
      for (let i = 0; i < 40; i++) {
        const m = message(s.key, s.did, b.did)
        ids.push(envelopeId(m))
        await rogue.publish(TOPIC, encodeEnvelope(m))
      }
    }
    const stored = (n: MeshNode): number => ids.filter((id) => n.store.messages.exists(id)).length
    const overBudget = (i: number): number => {
      const d = nodes[i]!.relayStats().dropped
      const was = before[i]!.drops
      return d['did-budget'] + d['peer-budget'] - was['did-budget'] - was['peer-budget']
    }
    // a sees every message: it stores or drops each one
    await waitFor(() => stored(a) + overBudget(0) >= ids.length, { timeout: 30_000 })
    for (const n of nodes) {
      expect(stored(n)).toBeLessThanOrEqual(relay.perPeerMessages)
      for (const s of senders) {
        expect(n.listMessages({ did: s.did, limit: 1000 }).length).toBeLessThanOrEqual(relay.perDidMessages)
      }
    }
    expect(stored(a)).toBe(relay.perPeerMessages)
    expect(overBudget(0)).toBe(ids.length - stored(a))
  }, 60_000)

  it('from forgeries in a registered DID’s name: its own budget is untouched, its genuine messages pass', async () => {
    const forger = await startRogue('forger')
    const { identity } = await b.registerAgent('victim')
    await waitFor(() => a.agents.record(identity.did) !== undefined, { timeout: 15_000 })
    const mallory = generateKeyPair()
    const forged = Array.from({ length: relay.perDidMessages + 10 }, () => message(mallory, identity.did))
    for (const f of forged) await forger.publish(TOPIC, encodeEnvelope(f))
    const refused = (): number =>
      a.store.auditEntries
        .entries(0, a.store.auditEntries.count())
        .filter((r) => (JSON.parse(r.entry) as { code: string | null }).code === 'SIGNATURE_INVALID').length
    await waitFor(() => refused() >= forged.length, { timeout: 15_000 })
    const genuine = await b.sendMessage({ authority: OPERATOR, fromDid: identity.did, toDid: null, message: 'me' })
    await waitFor(() => a.store.messages.exists(genuine.id), { timeout: 15_000 })
  })

  it('keeps a message that arrives just before its sender’s registration, and accepts it after', async () => {
    const key = generateKeyPair()
    const icp = createInception(key, Date.now())
    const early = message(key, icp.did, b.did)
    await rogue.publish(TOPIC, encodeEnvelope(early))
    await waitFor(() => a.relayStats().held.messages > 0, { timeout: 15_000 })
    const reg = createRegistration(
      { did: icp.did, name: 'late', capabilities: [], controller: icp.did, peerId: rogue.peerId, ts: Date.now() },
      key,
    )
    await rogue.publish('meshsig/v1/registry', encodeEnvelope(icp))
    await rogue.publish('meshsig/v1/registry', encodeEnvelope(reg))
    await waitFor(() => a.store.messages.exists(envelopeId(early)), { timeout: 15_000 })
  })

  it('counts the messages a registration releases against its sender’s budget (stop 39’s left item)', async () => {
    const sender = await startRogue('held')
    const key = generateKeyPair()
    const icp = createInception(key, Date.now())
    const ids: string[] = []
    const publish = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const m = message(key, icp.did, b.did)
        ids.push(envelopeId(m))
        await sender.publish(TOPIC, encodeEnvelope(m))
      }
    }
    await publish(relay.pendingMessages) // before its registration: held
    await waitFor(() => a.relayStats().held.messages >= relay.pendingMessages, { timeout: 15_000 })
    const reg = createRegistration(
      { did: icp.did, name: 'burst', capabilities: [], controller: icp.did, peerId: sender.peerId, ts: Date.now() },
      key,
    )
    await sender.publish('meshsig/v1/registry', encodeEnvelope(icp))
    await sender.publish('meshsig/v1/registry', encodeEnvelope(reg))
    await waitFor(() => a.agents.record(icp.did) !== undefined, { timeout: 15_000 })
    await waitFor(() => ids.some((id) => a.store.messages.exists(id)), { timeout: 15_000 })
    const drops = (): number => a.relayStats().dropped['did-budget']
    const before = drops()
    await publish(relay.perDidMessages) // as many again, registered now
    const stored = (): number => ids.filter((id) => a.store.messages.exists(id)).length
    await waitFor(() => stored() + drops() - before >= relay.perDidMessages, { timeout: 15_000 })
    // before: the 16 released ones were free, and 36 of one sender's messages were kept in one window
    expect(stored()).toBe(relay.perDidMessages)
  })
})
