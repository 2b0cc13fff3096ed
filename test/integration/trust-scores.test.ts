/**
 * Trust on a real node through its API (SPEC §6): verified messages raise
 * the sender's score step by step; forgeries in a victim's name (a
 * pre-signed envelope with a bad signature, and gossip from a rogue peer)
 * leave the victim's score alone and count against whoever delivered them;
 * so do replays, stale times and rotated-out keys (a third party can deliver
 * those too, docs/protocol.md §7). Every score the API shows is the core
 * formula over the audit export's entries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MeshsigClient } from '../../api/client.js'
import { checkAuditExport } from '../../node/audit/export-check.js'
import {
  connectionTrustFromAuditEntries,
  createMessage,
  didFromPublicKey,
  encodeEnvelope,
  envelopeId,
  fromB64,
  generateKeyPair,
  keyPairFromSeed,
  peerTrustFromAuditEntries,
  trustFromAuditEntries,
  type KeyPair,
  type MsgEnvelope,
} from '../../node/core/index.js'
import { createMeshP2P, type MeshP2P } from '../../node/p2p/index.js'
import { emptyRegistry } from './flood-rogue.js'
import type { AuditReport } from '../../node/services/report-service.js'
import { expectNo500, startApi, type ApiFixture } from '../api/api-fixture.js'
import { waitFor } from '../helpers/wait-for.js'
import { nonce, post, sendMany } from './audit-fixture.js'

let fx: ApiFixture
let client: MeshsigClient
let rogue: MeshP2P
let victim: { did: string; key: KeyPair }
let careless: { did: string; key: KeyPair }
let other: string

async function registerCustodied(name: string): Promise<{ did: string; key: KeyPair }> {
  const body = await post(fx, '/agents/register', { name }, 201)
  return { did: body.identity.did, key: keyPairFromSeed(fromB64(body.identity.privateKey, 'seed', 32)) }
}

const score = async (did: string): Promise<number> => (await client.agent(did)).trustScore

function auditHas(id: string, kind: string): boolean {
  return fx.node.store.auditEntries.entries(0, 1_000_000).some((r) => {
    const e = JSON.parse(r.entry) as { envelopeId: string | null; kind: string }
    return e.envelopeId === id && e.kind === kind
  })
}

beforeAll(async () => {
  fx = await startApi()
  client = new MeshsigClient({ server: fx.url })
  victim = await registerCustodied('victim')
  careless = await registerCustodied('careless')
  other = (await registerCustodied('other')).did
  rogue = await createMeshP2P({
    seed: generateKeyPair().seed,
    transports: 'memory',
    listen: [`/memory/trust-rogue-${process.pid}-${Date.now()}`],
    validate: () => 'accept',
    onMessage: () => undefined,
    syncProvider: emptyRegistry,
    heartbeatInterval: 200,
  })
  await rogue.start()
  await rogue.dial(fx.node.info().multiaddrs[0]!)
  await waitFor(() => rogue.subscribers('meshsig/v1/messages').includes(fx.node.mesh.peerId), { timeout: 15_000 })
}, 60_000)

afterAll(async () => {
  expectNo500(fx)
  await rogue?.stop()
  await fx?.stop()
})

describe('trust per agent', () => {
  it('rises with every verified message, monotonically, inside [0, 1]', async () => {
    const scores = [await score(victim.did)]
    expect(scores[0]).toBe(0.5)
    for (let i = 0; i < 6; i++) {
      await sendMany(fx, victim.did, other, 1)
      scores.push(await score(victim.did))
    }
    for (let i = 1; i < scores.length; i++) expect(scores[i]!).toBeGreaterThan(scores[i - 1]!)
    expect(scores.at(-1)!).toBeLessThan(1)
  })

  it('is not lowered by a forged pre-signed envelope in the victim’s name; the API client is charged', async () => {
    const before = await score(victim.did)
    const mallory = generateKeyPair()
    for (let i = 0; i < 3; i++) {
      const forged = createMessage(
        { from: victim.did, to: other, body: `forged ${i}`, ts: Date.now(), nonce: nonce() },
        mallory,
      )
      expect((await post(fx, '/messages/send', { envelope: forged }, 400)).code).toBe('SIGNATURE_INVALID')
    }
    const wrongKey = await fx.call('POST', '/messages/send', {
      fromDid: victim.did,
      toDid: other,
      message: 'with a key that is not hers',
      privateKey: Buffer.from(mallory.seed).toString('base64'),
    })
    expect(wrongKey.status).toBe(400)
    expect(await score(victim.did)).toBe(before)
    const trust = await client.agentTrust(victim.did)
    expect(trust.failures).toBe(0)
    const api = (await client.trust()).peers.find((p) => p.peer.startsWith('api:'))
    expect(api?.failures).toBeGreaterThanOrEqual(3)
  })

  it('is not lowered by forgeries gossiped by a rogue peer; the rogue peer is charged', async () => {
    const before = await score(victim.did)
    const mallory = generateKeyPair()
    const forged = createMessage(
      { from: victim.did, to: other, body: 'pay mallory', ts: Date.now(), nonce: nonce() },
      mallory,
    )
    await rogue.publish('meshsig/v1/messages', encodeEnvelope(forged))
    await waitFor(() => auditHas(envelopeId(forged), 'envelope.rejected'), { timeout: 15_000 })
    // and bytes that are no envelope at all
    await rogue.publish('meshsig/v1/messages', new TextEncoder().encode(`{"type":"msg","from":"${victim.did}"}`))
    await waitFor(async () => (await client.trust()).peers.find((p) => p.peer === rogue.peerId)?.failures === 2, {
      timeout: 15_000,
    })
    expect(await score(victim.did)).toBe(before)
    const peer = (await client.trust()).peers.find((p) => p.peer === rogue.peerId)
    expect(peer).toMatchObject({ successes: 0, failures: 2 })
    expect(peer!.score).toBeLessThan(0.5)
  })

  it('is not lowered by a replay, a stale time or a rotated-out key; whoever delivered them is charged', async () => {
    await sendMany(fx, careless.did, other, 2)
    const before = await score(careless.did)
    const api = async (): Promise<number> =>
      (await client.trust()).peers.filter((p) => p.peer.startsWith('api:')).reduce((sum, p) => sum + p.failures, 0)
    const apiBefore = await api()
    const n = nonce()
    await post(fx, '/messages/send', { envelope: msg(careless, 'once', Date.now(), n) })
    const up = await score(careless.did)
    expect(up).toBeGreaterThan(before) // a verified message: up
    expect((await post(fx, '/messages/send', { envelope: msg(careless, 'twice', Date.now(), n) }, 409)).code).toBe(
      'REPLAY',
    )
    const stale = msg(careless, 'late', Date.now() - 3_600_000, nonce())
    expect((await post(fx, '/messages/send', { envelope: stale }, 400)).code).toBe('CLOCK_SKEW')
    await post(fx, '/agents/rotate-key', { did: careless.did })
    const old = msg(careless, 'old key', Date.now(), nonce())
    expect((await post(fx, '/messages/send', { envelope: old }, 400)).code).toBe('ROTATED_KEY')
    expect(await score(careless.did)).toBe(up)
    expect(await api()).toBe(apiBefore + 3)
    // a replay of her genuine envelope gossiped by someone else: the rogue peer answers for it
    const rogueFaults = async (): Promise<number> =>
      (await client.trust()).peers.find((p) => p.peer === rogue.peerId)?.failures ?? 0
    const faults = await rogueFaults()
    await rogue.publish('meshsig/v1/messages', encodeEnvelope(msg(careless, 'thrice', Date.now(), n)))
    await waitFor(async () => (await rogueFaults()) === faults + 1, { timeout: 15_000 })
    expect(await score(careless.did)).toBe(up)
    expect((await client.agentTrust(careless.did)).failures).toBe(0)
  })
})

/** A message to `other` that `who` really signed. */
function msg(who: { did: string; key: KeyPair }, body: string, ts: number, n: Uint8Array): MsgEnvelope {
  return createMessage({ from: who.did, to: other, body, ts, nonce: n }, who.key)
}

describe('reproducible from the audit log', () => {
  it('gives nothing for a message sent before its sender registered, and credit after', async () => {
    const key = generateKeyPair()
    const did = didFromPublicKey(key.publicKey)
    await client.sendSigned(key, { from: did, to: other, message: 'before registering' })
    await client.registerWithKey(key, { name: 'late' }, generateKeyPair())
    expect(await score(did)).toBe(0.5)
    await client.sendSigned(key, { from: did, to: other, message: 'after registering' })
    expect(await score(did)).toBe(1.25 / 2.25) // the pair's second message earns 1/4
  })

  it('GET /agents/:did, GET /trust and the export equal the core formula over the exported entries', async () => {
    const report = (await fx.call('GET', '/audit/export')).body as AuditReport
    const { entries } = report
    expect(checkAuditExport(report).problems).toEqual([])
    const agents = (await client.agents()).agents
    expect(agents.length).toBeGreaterThanOrEqual(4)
    for (const a of agents)
      expect((await client.agent(a.did)).trustScore, a.name).toBe(trustFromAuditEntries(entries, a.did))
    const trust = await client.trust()
    expect(trust.peers.length).toBeGreaterThanOrEqual(2)
    for (const p of trust.peers) expect(p.score, p.peer).toBe(peerTrustFromAuditEntries(entries, p.peer))
    expect(trust.connections.length).toBeGreaterThanOrEqual(3)
    for (const c of trust.connections) expect(c.score).toBe(connectionTrustFromAuditEntries(entries, c.a, c.b))
    const pair = (await client.agentTrust(victim.did)).connections.find((c) => c.a === other || c.b === other)
    expect(pair!.score).toBeGreaterThan(0.5)
    for (const d of [victim.did, careless.did])
      expect(trust.agents.find((a) => a.did === d)).toMatchObject({ failures: 0 })
  })
})
