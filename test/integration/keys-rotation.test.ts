import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createRegistration,
  createRevocation,
  createRotation,
  envelopeId,
  generateKeyPair,
  keyPairFromB64,
  MAX_TS,
  toB64,
  type KeyState,
  type RegEnvelope,
} from '../../node/core/index.js'
import type { NodeEvent } from '../../node/events.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { freshIdentity, startNode, stopAll, tempDir } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import {
  auditEntries,
  message,
  ownAgent,
  rawGossip,
  rejection,
  startKeysMesh,
  waitForMeshes,
  type KeysMesh,
} from './keys-fixture.js'
import { OPERATOR } from '../../node/services/authority.js'

describe('key rotation across three nodes in a line (A - B - C)', () => {
  let mesh: KeysMesh
  let nodes: MeshNode[]
  const events: NodeEvent[][] = []
  const state = (n: MeshNode, did: string): KeyState | undefined => n.store.keyEvents.state(did)

  beforeAll(async () => {
    mesh = await startKeysMesh(3)
    nodes = mesh.nodes
    for (const n of nodes) {
      const seen: NodeEvent[] = []
      n.events.subscribe((e) => seen.push(e))
      events.push(seen)
    }
  })
  afterAll(() => mesh?.stop())

  it('a rotation on A reaches B and C; the DID stays; old-key messages are refused everywhere, new-key ones accepted', async () => {
    const [a, b, c] = nodes as [MeshNode, MeshNode, MeshNode]
    const reg = await a.registerAgent('rotator', [{ type: 'analysis' }])
    const did = reg.identity.did
    const oldKey = keyPairFromB64(reg.identity.privateKey)
    await waitFor(() => nodes.every((n) => n.agents.record(did) !== undefined), { timeout: 15_000 })

    const r = await mesh.call(0, 'POST', '/agents/rotate-key', { did })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ rotated: true, did, keySeq: 1, previousPublicKey: reg.identity.publicKey })
    const newKey = r.body.publicKey as string
    await waitFor(() => nodes.every((n) => state(n, did)?.key === newKey), { timeout: 15_000 })
    for (const [i, n] of nodes.entries()) {
      const record = (await mesh.call(i, 'GET', `/agents/${did}`)).body
      expect(record).toMatchObject({ did, publicKey: newKey, keySeq: 1, status: 'active' })
      expect(n.store.keyEvents.log(did)).toEqual(a.store.keyEvents.log(did))
      expect(events[i]!.some((e) => e.type === 'agent:rotated' && e.data.did === did)).toBe(true)
    }

    // the old key, through each node's API: 400 ROTATED_KEY, nothing stored
    for (let i = 0; i < 3; i++) {
      const old = message(oldKey, did, null, `old key to node ${i}`)
      const res = await mesh.call(i, 'POST', '/messages/send', { envelope: old })
      expect(res.status, `node ${i}`).toBe(400)
      expect(res.body.code).toBe('ROTATED_KEY')
      expect(nodes[i]!.store.messages.exists(envelopeId(old))).toBe(false)
    }

    // the old key, through gossip from a peer that skips the rules: B refuses it, C never sees it
    const gossiped = message(oldKey, did, null, 'old key by gossip')
    await rawGossip(a, 'meshsig/v1/messages', gossiped)
    await waitFor(() => rejection(b, envelopeId(gossiped)), { timeout: 10_000 })
    expect(rejection(b, envelopeId(gossiped))).toMatchObject({ code: 'ROTATED_KEY', data: { via: 'gossip' } })

    // the new key (custodied on A): accepted on A and stored on B and C
    const sent = await a.sendMessage({ authority: OPERATOR, fromDid: did, toDid: null, message: 'new key' })
    await waitFor(() => c.store.messages.exists(sent.id), { timeout: 15_000 })
    expect(b.store.messages.exists(sent.id)).toBe(true)
    for (const n of nodes) expect(n.store.messages.exists(envelopeId(gossiped))).toBe(false)
  })

  it('a registration dated far ahead under the old key gives way on every node to the one the rotated key signs', async () => {
    const [a, b] = nodes as [MeshNode, MeshNode, MeshNode]
    const reg = await a.registerAgent('pinned-here')
    const did = reg.identity.did
    const icp = a.store.keyEvents.log(did)[0]!
    const init = { did, name: 'thief', capabilities: [], controller: a.did, peerId: a.mesh.peerId }
    const pinned = createRegistration({ ...init, ts: MAX_TS }, keyPairFromB64(reg.identity.privateKey))
    const body = { name: 'thief', publicKey: reg.identity.publicKey, proof: { icp, reg: pinned } }
    expect((await mesh.call(0, 'POST', '/agents/register', body)).status).toBe(201)
    await waitFor(() => nodes.every((n) => n.store.agents.get(did)?.regId === envelopeId(pinned)), { timeout: 15_000 })

    const r = await mesh.call(0, 'POST', '/agents/rotate-key', { did })
    expect(r.status).toBe(200)
    const resigned = JSON.parse(a.store.agents.get(did)!.regEnvelope) as RegEnvelope
    expect(resigned.ts).toBeLessThan(MAX_TS)
    await waitFor(() => nodes.every((n) => n.store.agents.get(did)?.regId === envelopeId(resigned)), {
      timeout: 15_000,
    })
    // the pinned one, relayed again, is a registration under a rotated-out key: refused, nothing changes
    await rawGossip(a, 'meshsig/v1/registry', pinned)
    await waitFor(() => rejection(b, envelopeId(pinned)), { timeout: 10_000 })
    expect(rejection(b, envelopeId(pinned))?.code).toBe('ROTATED_KEY')
    for (const n of nodes) expect(n.store.agents.get(did)?.regId).toBe(envelopeId(resigned))
  })

  it('two conflicting rotations: the first is kept on every node, the second is recorded, audited, shown and announced as duplicity', async () => {
    const [a, , c] = nodes as [MeshNode, MeshNode, MeshNode]
    const agent = await ownAgent(a, 'two-faced')
    await waitFor(() => nodes.every((n) => state(n, agent.did) !== undefined), { timeout: 15_000 })
    const s0 = state(a, agent.did)!
    const first = createRotation(s0, agent.key, agent.next, Date.now(), generateKeyPair())
    const second = createRotation(s0, agent.key, agent.next, Date.now() + 1, generateKeyPair())
    expect((await mesh.call(0, 'POST', '/agents/rotate-key', { envelope: first })).status).toBe(200)
    await waitFor(() => nodes.every((n) => state(n, agent.did)?.lastId === envelopeId(first)), { timeout: 15_000 })

    const conflict = await mesh.call(2, 'POST', '/agents/rotate-key', { envelope: second })
    expect(conflict.status).toBe(409)
    expect(conflict.body.code).toBe('DUPLICITY')
    const secondId = envelopeId(second)
    // the evidence travels: every node records it
    await waitFor(() => nodes.every((n) => n.duplicities(agent.did).some((d) => d.conflictingId === secondId)), {
      timeout: 15_000,
    })
    for (const [i, n] of nodes.entries()) {
      expect(state(n, agent.did)!.lastId, `node ${i} keeps the first`).toBe(envelopeId(first))
      expect(state(n, agent.did)!.key).toBe(toB64(agent.next.publicKey))
      const audited = auditEntries(n).filter((e) => e.kind === 'duplicity' && e.subject === agent.did)
      expect(audited).toHaveLength(1)
      expect(audited[0]).toMatchObject({ envelopeId: secondId, data: { keptId: envelopeId(first), seq: 1 } })
      const shown = (await mesh.call(i, 'GET', `/agents/${agent.did}`)).body.duplicity
      expect(shown).toEqual([expect.objectContaining({ seq: 1, keptId: envelopeId(first), conflictingId: secondId })])
      const list = (await mesh.call(i, 'GET', '/duplicity')).body
      expect(list.duplicity.map((d: { conflictingId: string }) => d.conflictingId)).toContain(secondId)
      const keys = (await mesh.call(i, 'GET', `/keys/${agent.did}`)).body
      expect(keys).toMatchObject({ known: true, keySeq: 1, lastId: envelopeId(first) })
      expect(keys.duplicity).toHaveLength(1)
      expect(events[i]!.filter((e) => e.type === 'key:duplicity' && e.data.id === secondId)).toHaveLength(1)
    }
    expect(c.duplicities(agent.did)[0]!.envelope).toEqual(second)
  })

  it('a revocation signed by a rotated-out key at the rotated seq frames nobody: old history, no duplicity, nobody charged, trust kept', async () => {
    const [a, b] = nodes as [MeshNode, MeshNode, MeshNode]
    const agent = await ownAgent(a, 'rotated-away')
    await waitFor(() => nodes.every((n) => state(n, agent.did) !== undefined), { timeout: 15_000 })
    const s0 = state(a, agent.did)!
    const rot = createRotation(s0, agent.key, agent.next, Date.now(), generateKeyPair())
    expect((await mesh.call(0, 'POST', '/agents/rotate-key', { envelope: rot })).status).toBe(200)
    await waitFor(() => nodes.every((n) => state(n, agent.did)?.lastId === envelopeId(rot)), { timeout: 15_000 })
    const trust = b.agentTrust(agent.did)
    // whoever kept the rotated-out key signs revocations at seq 1, each different
    const framed = [1, 2, 3].map((i) => createRevocation(s0, agent.key, `framed ${i}`, Date.now() + i))
    const faults = () => b.store.misc.peerFaults().find((f) => f.peer === a.mesh.peerId)?.forged ?? 0
    const before = faults()
    for (const rev of framed) await rawGossip(a, 'meshsig/v1/registry', rev)
    // then a forgery, which B refuses and charges to A: once B has judged it, it has judged the three before it
    const forged = { ...framed[0]!, reason: 'forged after' }
    await rawGossip(a, 'meshsig/v1/registry', forged)
    await waitFor(() => rejection(b, envelopeId(forged)), { timeout: 10_000 })
    // old history: not recorded, and the peer that relayed it is not charged for it
    for (const rev of framed) expect(rejection(b, envelopeId(rev))).toBeUndefined()
    expect(faults()).toBe(before + 1)
    for (const n of nodes) expect(n.duplicities(agent.did)).toEqual([])
    expect(b.agentTrust(agent.did)).toMatchObject({ score: trust.score, failures: 0 })
    expect(state(b, agent.did)).toMatchObject({ seq: 1, revoked: null })
  })

  it('a "conflict" the DID never signed is a forgery, not duplicity: refused for its signature and not recorded', async () => {
    const a = nodes[0]!
    const agent = await ownAgent(a, 'framed')
    await waitFor(() => nodes.every((n) => state(n, agent.did) !== undefined), { timeout: 15_000 })
    const s0 = state(a, agent.did)!
    const real = createRotation(s0, agent.key, agent.next, Date.now(), generateKeyPair())
    expect((await mesh.call(0, 'POST', '/agents/rotate-key', { envelope: real })).status).toBe(200)
    const forged = createRotation(s0, generateKeyPair(), agent.next, Date.now(), null)
    const r = await mesh.call(0, 'POST', '/agents/rotate-key', { envelope: forged })
    expect(r.status).toBe(400)
    expect(r.body.code).toBe('SIGNATURE_INVALID')
    expect(a.duplicities(agent.did)).toEqual([])
    expect(rejection(a, envelopeId(forged))?.code).toBe('SIGNATURE_INVALID')
  })

  it('a rot signed by another key or revealing an uncommitted key is refused at the API and at gossip; nothing changes', async () => {
    const [a, b, c] = nodes as [MeshNode, MeshNode, MeshNode]
    const agent = await ownAgent(a, 'guarded')
    await waitFor(() => nodes.every((n) => state(n, agent.did) !== undefined), { timeout: 15_000 })
    const s0 = state(a, agent.did)!
    const wrongSigner = createRotation(s0, generateKeyPair(), agent.next, Date.now(), null)
    const uncommitted = createRotation(s0, agent.key, generateKeyPair(), Date.now(), null)
    const r1 = await mesh.call(0, 'POST', '/agents/rotate-key', { envelope: wrongSigner })
    expect([r1.status, r1.body.code]).toEqual([400, 'SIGNATURE_INVALID'])
    const r2 = await mesh.call(0, 'POST', '/agents/rotate-key', { envelope: uncommitted })
    expect([r2.status, r2.body.code]).toEqual([400, 'PRE_ROTATION_MISMATCH'])
    // a peer that gossips it anyway is refused (Reject) and charged with a fault
    await rawGossip(a, 'meshsig/v1/registry', uncommitted)
    await waitFor(() => rejection(b, envelopeId(uncommitted)), { timeout: 10_000 })
    expect(rejection(b, envelopeId(uncommitted))?.code).toBe('PRE_ROTATION_MISMATCH')
    expect(b.store.misc.peerFaults().find((f) => f.peer === a.mesh.peerId)?.forged).toBeGreaterThan(0)
    for (const n of [a, b, c]) expect(state(n, agent.did)).toEqual(s0)
  })
})

describe('a node that was offline during a rotation catches up through sync (TCP, same identity and database)', () => {
  let a: MeshNode | undefined
  let b: MeshNode | undefined
  let c: MeshNode | undefined
  const dir = tempDir()
  afterAll(async () => {
    await stopAll([a, b, c])
    dir.cleanup()
  })

  it('stop C, rotate on A, restart C: C learns the rotation and refuses the old key', async () => {
    a = await startNode({ transports: 'tcp' })
    b = await startNode({ transports: 'tcp', peers: [a.info().multiaddrs[0]!] })
    const identityC = freshIdentity()
    const dbPath = `${dir.dir}/c.db`
    c = await startNode({ transports: 'tcp', identity: identityC, dbPath, peers: [b.info().multiaddrs[0]!] })
    await waitForMeshes([a, b, c])
    const reg = await a.registerAgent('traveller')
    const did = reg.identity.did
    await waitFor(() => c!.agents.record(did) !== undefined, { timeout: 15_000 })
    await c.stop()

    const rotation = await a.rotateAgent({ did, authority: OPERATOR })
    await waitFor(() => b!.store.keyEvents.state(did)?.seq === 1, { timeout: 15_000 })

    c = await startNode({ transports: 'tcp', identity: identityC, dbPath, peers: [b.info().multiaddrs[0]!] })
    await waitFor(() => c!.store.keyEvents.state(did)?.seq === 1, { timeout: 15_000 })
    expect(c.store.keyEvents.state(did)!.key).toBe(rotation.publicKey)
    expect(c.agents.record(did)).toMatchObject({ did, publicKey: rotation.publicKey, keySeq: 1 })
    const old = await c.submitEnvelope(message(keyPairFromB64(reg.identity.privateKey), did, null, 'stale'))
    expect(old.ok).toBe(false)
    expect(!old.ok && old.error.code).toBe('ROTATED_KEY')
  })
})

describe('a node that joins after a custodied rotation gets the agent (its registration is signed again with the new key)', () => {
  let a: MeshNode | undefined
  let c: MeshNode | undefined
  afterAll(() => stopAll([a, c]))

  it('rotate a custodied agent on A, then start C connected to A: C has the agent, active, on the new key, and refused nothing of it', async () => {
    a = await startNode()
    const reg = await a.registerAgent('late-joiner-target', [{ type: 'analysis' }])
    const did = reg.identity.did
    const rotation = await a.rotateAgent({ did, authority: OPERATOR })
    expect(rotation.custodied).toBe(true)
    // the stored registration is signed by the new key, in the same transaction as the rotation
    expect(rotation.registration).toMatchObject({ type: 'reg', did, name: 'late-joiner-target' })
    expect(a.store.agents.get(did)?.regId).toBe(envelopeId(rotation.registration!))

    c = await startNode({ peers: [a.info().multiaddrs[0]!] })
    await waitFor(() => c!.agents.record(did) !== undefined, { timeout: 15_000 })
    expect(c.store.keyEvents.state(did)?.key).toBe(rotation.publicKey)
    expect(c.agents.record(did)).toMatchObject({ did, publicKey: rotation.publicKey, keySeq: 1, status: 'active' })
    const refused = auditEntries(c).filter((e) => e.kind === 'envelope.rejected' && JSON.stringify(e).includes(did))
    expect(refused).toEqual([])
  })
})
