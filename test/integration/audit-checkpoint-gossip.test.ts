/**
 * Signed checkpoints travel the mesh (SPEC §4, §5): one made on demand
 * (POST /audit/checkpoint, operator only) and the periodic ones both reach
 * another node, which logs each as an accepted `chk` envelope; a forged
 * checkpoint in the node's name is refused and held against the peer that
 * gossiped it; a node that signs two roots for one size is recorded as
 * inconsistent (docs/audit.md) and its trust drops.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApi, type Api } from '../../api/app.js'
import { serveApi, type ServedApi } from '../../api/server.js'
import {
  createCheckpoint,
  didFromPublicKey,
  encodeEnvelope,
  envelopeId,
  generateKeyPair,
  sha256,
  type AuditEntry,
  type ChkEnvelope,
} from '../../node/core/index.js'
import { MeshNode } from '../../node/mesh-node.js'
import { CHECKPOINTS_PER_MINUTE } from '../../node/services/checkpoint-gate.js'
import { createMeshP2P, type MeshP2P } from '../../node/p2p/index.js'
import { rawRequest, testConfig } from '../api/api-fixture.js'
import { freshIdentity, startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { emptyRegistry } from './flood-rogue.js'

const TOKEN = 'checkpoint-token-0123456789abcdefghijklmnop'

const OPERATOR_TOKEN = randomBytes(32).toString('base64url')
let a: MeshNode
let b: MeshNode
let served: ServedApi
let rogue: MeshP2P
const rogueKey = generateKeyPair()
const rogueDid = (): string => didFromPublicKey(rogueKey.publicKey)

/** B's audit entries about `chk` envelopes. */
function chkEntries(node: MeshNode): AuditEntry[] {
  return node.store.auditEntries
    .entries(0, 1_000_000)
    .map((r) => JSON.parse(r.entry) as AuditEntry)
    .filter((e) => (e.data as { type?: string }).type === 'chk')
}

function acceptedFrom(node: MeshNode, origin: string): AuditEntry[] {
  return chkEntries(node).filter((e) => e.kind === 'envelope.accepted' && e.subject === origin)
}

beforeAll(async () => {
  a = await MeshNode.create({
    name: 'checkpointer',
    identity: freshIdentity(),
    dbPath: ':memory:',
    transports: 'memory',
    listen: [`/memory/chk-a-${process.pid}-${Date.now()}`],
    heartbeatInterval: 200,
    dhtQuerySelfInterval: 500,
    checkpointIntervalMs: 300,
    limits: { onDemandCheckpointMs: 0 }, // each test asks for its own checkpoint
  })
  await a.start()
  served = await serveApi(a, testConfig(), { token: OPERATOR_TOKEN })
  b = await startNode({ peers: [a.info().multiaddrs[0]!] })
  rogue = await createMeshP2P({
    seed: rogueKey.seed,
    transports: 'memory',
    listen: [`/memory/chk-rogue-${process.pid}-${Date.now()}`],
    validate: () => 'accept',
    onMessage: () => undefined,
    syncProvider: emptyRegistry,
    heartbeatInterval: 200,
  })
  await rogue.start()
  await rogue.dial(b.info().multiaddrs[0]!)
  await waitFor(() => a.mesh.meshPeers('meshsig/v1/audit').includes(b.mesh.peerId), { timeout: 15_000 })
  await waitFor(() => rogue.subscribers('meshsig/v1/audit').includes(b.mesh.peerId), { timeout: 15_000 })
}, 60_000)

afterAll(async () => {
  await rogue?.stop()
  await served?.close()
  await stopAll([a, b])
})

describe('checkpoints on the mesh', () => {
  it('one made on demand by the operator reaches the other node as an accepted chk', async () => {
    await a.registerAgent('busy', [])
    const r = await fetch(`${served.url}/audit/checkpoint`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}` },
    })
    expect(r.status).toBe(201)
    const { checkpoint } = (await r.json()) as { checkpoint: ChkEnvelope }
    expect(checkpoint.origin).toBe(a.did)
    const id = envelopeId(checkpoint)
    await waitFor(() => acceptedFrom(b, a.did).some((e) => e.envelopeId === id), { timeout: 15_000 })
    const entry = acceptedFrom(b, a.did).find((e) => e.envelopeId === id)!
    expect(entry.data).toMatchObject({ type: 'chk', via: 'gossip', deliveredBy: a.mesh.peerId })
    expect(a.audit.checkpointOf(checkpoint.size)).toEqual(checkpoint)
    const latest = (await (await fetch(`${served.url}/audit/checkpoint`)).json()) as { checkpoint: ChkEnvelope }
    expect(latest.checkpoint.size).toBeGreaterThanOrEqual(checkpoint.size)
  })

  it('periodic ones follow new entries, unasked, and reach the other node too', async () => {
    const before = acceptedFrom(b, a.did).length
    const sizeBefore = a.audit.latest()!.size
    await a.registerAgent('later', [])
    await waitFor(() => a.audit.latest()!.size > sizeBefore, { timeout: 15_000 })
    const periodic = a.audit.latest()!
    await waitFor(() => acceptedFrom(b, a.did).some((e) => e.envelopeId === envelopeId(periodic)), {
      timeout: 15_000,
    })
    expect(acceptedFrom(b, a.did).length).toBeGreaterThan(before)
    // a checkpoint's own entry does not call for another one
    await a.checkpoint()
    expect(a.audit.stale()).toBe(false)
  })

  it('a forged checkpoint in the node’s name is refused and charged to the peer that gossiped it', async () => {
    const mallory = generateKeyPair()
    const forged = createCheckpoint(a.did, 1_000, sha256(new Uint8Array([1])), Date.now(), mallory)
    await rogue.publish('meshsig/v1/audit', encodeEnvelope(forged))
    const id = envelopeId(forged)
    await waitFor(() => chkEntries(b).some((e) => e.envelopeId === id), { timeout: 15_000 })
    const entries = chkEntries(b).filter((e) => e.envelopeId === id)
    expect(entries).toEqual([
      expect.objectContaining({ kind: 'envelope.rejected', code: 'SIGNATURE_INVALID', subject: a.did }),
    ])
    expect(entries[0]!.data).toMatchObject({ deliveredBy: rogue.peerId })
    expect(entries[0]!.data).not.toHaveProperty('attributableTo')
    expect(b.trust.peer(rogue.peerId).failures).toBe(1)
    await waitFor(() => b.mesh.peerScore(rogue.peerId) < 0, { timeout: 15_000 })
  })
})

describe('a node that signs two roots for one size', () => {
  it('is recorded against its DID on the node that sees both, which lowers its trust and charges no relay', async () => {
    const did = didFromPublicKey(rogueKey.publicKey)
    const split = [1, 2].map((byte) => createCheckpoint(did, 42, sha256(new Uint8Array([byte])), Date.now(), rogueKey))
    for (const chk of split) await rogue.publish('meshsig/v1/audit', encodeEnvelope(chk))
    const inconsistent = () =>
      b.store.auditEntries
        .entries(0, 1_000_000)
        .map((r) => JSON.parse(r.entry) as AuditEntry)
        .filter((e) => e.kind === 'checkpoint.inconsistent' && e.subject === did)
    await waitFor(() => inconsistent().length > 0, { timeout: 15_000 })
    const [first, second] = split.map((c) => envelopeId(c))
    expect(inconsistent()).toEqual([expect.objectContaining({ envelopeId: second })])
    expect(inconsistent()[0]!.data).toEqual({ reason: 'split-view', earlierId: first, size: 42 })
    expect(b.trust.agent(did).failures).toBe(1)
    expect(acceptedFrom(b, did).map((e) => e.envelopeId)).toEqual([first, second]) // both kept as evidence
  })
})

describe('the checkpoints a node takes from gossip (found by the attack review of stop 32)', () => {
  const entriesAbout = (did: string) =>
    b.store.auditEntries
      .entries(0, 1_000_000)
      .map((r) => JSON.parse(r.entry) as AuditEntry)
      .filter((e) => e.subject === did)

  it('a real checkpoint of another node, published by a peer that is not that node, is neither stored nor charged', async () => {
    const other = generateKeyPair() // a node b never heard from: its signed checkpoint, in the rogue's hands
    const real = createCheckpoint(didFromPublicKey(other.publicKey), 3, sha256(new Uint8Array([3])), Date.now(), other)
    await rogue.publish('meshsig/v1/audit', encodeEnvelope(real))
    // a marker the rogue publishes after it: once b has it, b has seen the republished checkpoint too
    const marker = createCheckpoint(rogueDid(), 7, sha256(new Uint8Array([7])), Date.now(), rogueKey)
    await rogue.publish('meshsig/v1/audit', encodeEnvelope(marker))
    await waitFor(() => acceptedFrom(b, rogueDid()).some((e) => e.envelopeId === envelopeId(marker)), {
      timeout: 15_000,
    })
    expect(entriesAbout(real.origin)).toEqual([])
    expect(b.store.auditEntries.remoteCheckpoints(real.origin)).toEqual([])
    expect(b.trust.peer(rogue.peerId).failures).toBe(1) // the forgery of the test above, nothing more
  })

  it(`one origin minting checkpoints has at most ${CHECKPOINTS_PER_MINUTE} a minute taken`, async () => {
    const minted = Array.from({ length: CHECKPOINTS_PER_MINUTE + 10 }, (_, i) =>
      createCheckpoint(rogueDid(), 1_000 + i, sha256(new Uint8Array([i])), Date.now(), rogueKey),
    )
    for (const c of minted) await rogue.publish('meshsig/v1/audit', encodeEnvelope(c))
    const ids = new Set(minted.map((c) => envelopeId(c)))
    const taken = () => acceptedFrom(b, rogueDid()).filter((e) => ids.has(e.envelopeId!)).length
    await waitFor(() => taken() > 0, { timeout: 15_000 })
    await new Promise((r) => setTimeout(r, 1_000)) // the rest of the burst arrives meanwhile
    expect(taken()).toBeLessThanOrEqual(CHECKPOINTS_PER_MINUTE)
  })
})

describe('POST /audit/checkpoint is for the operator', () => {
  let api: Api
  let server: Server
  let url: string

  beforeAll(async () => {
    api = createApi(a, { host: '0.0.0.0', token: TOKEN, rateLimit: 0 })
    server = createServer(api.handler)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve))
    await api.close()
  })

  it('bound off loopback, it needs the bearer token; reading stays open', async () => {
    const size = a.audit.size()
    for (const auth of [undefined, 'Bearer wrong']) {
      const r = await rawRequest(url, {
        method: 'POST',
        path: '/audit/checkpoint',
        headers: auth ? { authorization: auth } : {},
      })
      expect(r.status).toBe(401)
      expect(r.body.code).toBe('UNAUTHORIZED')
    }
    // nothing signed (peers coming and going may still be logged meanwhile)
    const added = a.store.auditEntries.entries(size, 100).map((r) => (JSON.parse(r.entry) as { kind: string }).kind)
    expect(added.filter((k) => !k.startsWith('peer.'))).toEqual([])
    const ok = await rawRequest(url, {
      method: 'POST',
      path: '/audit/checkpoint',
      headers: { authorization: `Bearer ${TOKEN}` },
    })
    expect(ok.status).toBe(201)
    expect(ok.body.checkpoint.size).toBeGreaterThanOrEqual(size)
    expect((await rawRequest(url, { method: 'GET', path: '/audit/checkpoint' })).status).toBe(200)
    expect((await rawRequest(url, { method: 'GET', path: '/audit/proof/0' })).status).toBe(200)
  })
})
