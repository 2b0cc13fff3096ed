/**
 * After a node-key rotation the node signs again the registrations of every
 * agent whose key it keeps, naming its new PeerId (docs/protocol.md §2). A
 * node may host thousands: they are renewed 64 to a transaction, and the
 * event loop runs other work between the transactions.
 */
import { afterAll, describe, expect, it } from 'vitest'
import {
  fromB64,
  generateKeyPair,
  peerIdFromPublicKey,
  verifyEnvelopeSignature,
  type RegEnvelope,
} from '../../node/core/index.js'
import { createIdentity, loadIdentity, rotateIdentity } from '../../node/identity/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import type { NodeParts } from '../../node/node-state.js'
import { OPERATOR } from '../../node/services/authority.js'
import { prepareRegistration } from '../../node/services/registration-prep.js'
import { REFRESH_CHUNK, refreshRegistrations } from '../../node/services/registration-refresh.js'
import { startNode, stopAll, tempDir } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'

const HOSTED = 150

describe('renewing hosted registrations for a new PeerId', () => {
  let node: MeshNode | undefined
  afterAll(() => stopAll([node]))

  it(`renews ${HOSTED} in ${Math.ceil(HOSTED / REFRESH_CHUNK)} transactions, yielding between them, and only once`, async () => {
    node = await startNode()
    const registered = await Promise.all(Array.from({ length: HOSTED }, (_, i) => node!.registerAgent(`hosted-${i}`)))
    const dids = registered.map((r) => r.identity.did)
    // the node's own parts, as its start step uses them (mesh-node.ts refreshOwnRegistrations)
    const p = (node as unknown as { parts: NodeParts }).parts
    const peerId = peerIdFromPublicKey(generateKeyPair().publicKey)
    const c = { store: p.store, ingest: p.ingest, events: p.events, keys: p.keyCache, clock: p.clock }
    const heard: string[] = []
    const unsubscribe = node.events.subscribe((e) => {
      if (e.type === 'agent:registered' && typeof e.data.did === 'string') heard.push(e.data.did)
    })

    let turns = 0
    let done = false
    const tick = (): void => {
      if (done) return
      turns++
      setImmediate(tick)
    }
    setImmediate(tick)
    const renewed = await refreshRegistrations({ ...c, nodeDid: node.did, peerId })
    done = true
    unsubscribe()

    expect(renewed.map((r) => r.did).sort()).toEqual([...dids].sort())
    expect(renewed.every((r) => r.peerId === peerId && r.controller === node!.did)).toBe(true)
    for (const did of dids) expect(node.store.agents.get(did)?.peerId).toBe(peerId)
    // the event loop ran between the transactions (a single synchronous pass would leave it no turn)
    expect(turns).toBeGreaterThanOrEqual(Math.ceil(HOSTED / REFRESH_CHUNK) - 1)
    expect(new Set(heard)).toEqual(new Set(dids))
    // every registration names the PeerId now: nothing left to renew
    await expect(refreshRegistrations({ ...c, nodeDid: node.did, peerId })).resolves.toEqual([])
  }, 60_000)
})

describe('registrations under way while the node moves to a new key', () => {
  const home = tempDir()
  let node: MeshNode | undefined
  afterAll(async () => {
    await stopAll([node])
    home.cleanup()
  })

  /** Rotate the node's own key as the operator does (`meshsig keys rotate`); resolves once the mesh moved. */
  async function rotateNodeKey(n: MeshNode): Promise<void> {
    const { rotation } = rotateIdentity(home.dir)
    await n.rotateAgent({ did: n.did, envelope: rotation, authority: OPERATOR })
  }

  it('one signed before the rotation and committed after the move names the new PeerId', async () => {
    createIdentity(home.dir)
    node = await startNode({ identity: loadIdentity(home.dir), home: home.dir })
    const p = (node as unknown as { parts: NodeParts }).parts
    const old = node.mesh.peerId
    const prepared = await prepareRegistration({ ...p.registrationParts, pool: p.signPool }, 'late', [])
    expect(prepared.reg.peerId).toBe(old)
    await rotateNodeKey(node)
    const now = node.mesh.peerId
    expect(now).not.toBe(old)
    await p.registrations.send({ kind: 'custodied', prepared })
    const row = node.store.agents.get(prepared.icp.did)
    expect(row?.peerId).toBe(now)
    // the stored registration is signed again by the agent's own key, same name and time
    const reg = JSON.parse(row!.regEnvelope) as RegEnvelope
    expect(reg).toMatchObject({ did: prepared.icp.did, name: 'late', ts: prepared.ts, peerId: now })
    expect(() => verifyEnvelopeSignature(reg, fromB64(prepared.icp.key))).not.toThrow()
  }, 60_000)

  it('every agent registered during a move names the new PeerId once it is done', async () => {
    const p = (node as unknown as { parts: NodeParts }).parts
    await Promise.all(Array.from({ length: 2 * REFRESH_CHUNK }, (_, i) => node!.registerAgent(`pre-${i}`)))
    let moving = true
    const dids: string[] = []
    const loops = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; moving; i++) dids.push((await node!.registerAgent(`during-${w}-${i}`)).identity.did)
    })
    // registrations are under way when the move begins, and go on past its end (counted, not timed: a loaded
    // machine registered fewer than 9 in a fixed 50 ms before)
    await waitFor(() => dids.length >= 8, { timeout: 60_000, message: 'registrations under way' })
    await rotateNodeKey(node!)
    const atEnd = dids.length
    await waitFor(() => dids.length >= atEnd + 8, { timeout: 60_000, message: 'registrations after the move' })
    moving = false
    await Promise.all(loops)
    const now = node!.mesh.peerId
    expect(dids.length).toBeGreaterThanOrEqual(16)
    expect(dids.filter((did) => p.store.agents.get(did)?.peerId !== now)).toEqual([])
  }, 120_000)
})
