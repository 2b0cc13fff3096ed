/**
 * After a node-key rotation the node signs again the registrations of every
 * agent whose key it keeps, naming its new PeerId (docs/protocol.md §2). A
 * node may host thousands: they are renewed 64 to a transaction, and the
 * event loop runs other work between the transactions.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { generateKeyPair, peerIdFromPublicKey } from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import type { NodeParts } from '../../node/node-state.js'
import { REFRESH_CHUNK, refreshRegistrations } from '../../node/services/registration-refresh.js'
import { startNode, stopAll } from '../helpers/mesh.js'

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
