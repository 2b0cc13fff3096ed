import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRevocation, envelopeId, generateKeyPair, keyPairFromB64, toB64 } from '../../node/core/index.js'
import type { NodeEvent } from '../../node/events.js'
import type { MeshNode } from '../../node/mesh-node.js'
import type { RegisteredAgent } from '../../node/services/agent-service.js'
import { startNode } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { message, ownAgent, rawGossip, rejection, startKeysMesh, type KeysMesh } from './keys-fixture.js'
import { OPERATOR } from '../../node/services/authority.js'

describe('revocation across three nodes in a line (A - B - C)', () => {
  let mesh: KeysMesh
  let nodes: MeshNode[]
  let doomed: RegisteredAgent
  let keeper: RegisteredAgent
  let listener: RegisteredAgent
  const events: NodeEvent[][] = []
  const revoked = (n: MeshNode, did: string): boolean => n.store.keyEvents.state(did)?.revoked != null
  const keyOf = (a: RegisteredAgent) => keyPairFromB64(a.identity.privateKey)

  beforeAll(async () => {
    mesh = await startKeysMesh(3)
    nodes = mesh.nodes
    for (const n of nodes) {
      const seen: NodeEvent[] = []
      n.events.subscribe((e) => seen.push(e))
      events.push(seen)
    }
    doomed = await nodes[0]!.registerAgent('doomed', [{ type: 'translation' }])
    keeper = await nodes[0]!.registerAgent('keeper', [{ type: 'translation' }])
    listener = await nodes[2]!.registerAgent('listener')
    const dids = [doomed, keeper, listener].map((a) => a.identity.did)
    await waitFor(() => nodes.every((n) => dids.every((d) => n.agents.record(d) !== undefined)), { timeout: 15_000 })
  })
  afterAll(() => mesh?.stop())

  it('a revocation without proof changes nothing and answers with a code', async () => {
    const victim = await ownAgent(nodes[0]!, 'victim')
    await waitFor(() => nodes.every((n) => n.store.keyEvents.state(victim.did) !== undefined), { timeout: 15_000 })
    for (const i of [1, 2]) {
      const r = await mesh.call(i, 'POST', '/agents/revoke', { did: victim.did, reason: 'not yours' })
      expect([r.status, r.body.code], `node ${i}`).toEqual([401, 'UNAUTHORIZED'])
    }
    const state = nodes[0]!.store.keyEvents.state(victim.did)!
    const forged = createRevocation(state, generateKeyPair(), 'forged', Date.now())
    const f = await mesh.call(0, 'POST', '/agents/revoke', { envelope: forged })
    expect([f.status, f.body.code]).toEqual([400, 'SIGNATURE_INVALID'])
    const wrongKey = await mesh.call(1, 'POST', '/agents/revoke', {
      did: victim.did,
      privateKey: toB64(generateKeyPair().seed),
    })
    expect(wrongKey.body.code).toBe('KEY_MISMATCH')
    for (const [i, n] of nodes.entries()) {
      expect(n.store.keyEvents.state(victim.did)!.revoked).toBeNull()
      const list = (await mesh.call(i, 'GET', '/revoked')).body.revoked as { did: string }[]
      expect(list.some((x) => x.did === victim.did)).toBe(false)
    }
  })

  it('a valid revocation reaches every node and blocks messages from and to the DID everywhere (API 403, gossip never stored)', async () => {
    const [a, b, c] = nodes as [MeshNode, MeshNode, MeshNode]
    const did = doomed.identity.did
    const r = await mesh.call(0, 'POST', '/agents/revoke', { did, reason: 'Key leaked' })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ revoked: true, did, reason: 'Key leaked', final: true })
    await waitFor(() => nodes.every((n) => revoked(n, did)), { timeout: 15_000 })

    for (const [i, n] of nodes.entries()) {
      const list = (await mesh.call(i, 'GET', '/revoked')).body.revoked
      expect(list.find((x: { did: string }) => x.did === did)).toMatchObject({
        did,
        name: 'doomed',
        reason: 'Key leaked',
        by: 'self',
        revokedAt: r.body.revokedAt,
      })
      expect(events[i]!.some((e) => e.type === 'agent:revoked' && e.data.did === did)).toBe(true)
      const from = await mesh.call(i, 'POST', '/messages/send', { envelope: message(keyOf(doomed), did, null, 'x') })
      expect([from.status, from.body.code], `from, node ${i}`).toEqual([403, 'REVOKED'])
      const to = await mesh.call(i, 'POST', '/messages/send', {
        envelope: message(keyOf(listener), listener.identity.did, did, 'y'),
      })
      expect([to.status, to.body.code], `to, node ${i}`).toEqual([403, 'REVOKED'])
      expect(n.signerKey(did).revoked).toBe(true)
    }
    const custodied = await mesh.call(0, 'POST', '/messages/send', { fromDid: did, toDid: null, message: 'z' })
    expect(custodied.status).toBe(403)

    // a peer that gossips a message of the revoked DID anyway: B drops it, C never stores it
    const sneaky = message(keyOf(doomed), did, listener.identity.did, 'still here')
    await rawGossip(a, 'meshsig/v1/messages', sneaky)
    await waitFor(() => rejection(b, envelopeId(sneaky)), { timeout: 10_000 })
    expect(rejection(b, envelopeId(sneaky))?.code).toBe('REVOKED')
    const control = await a.sendMessage({
      authority: OPERATOR,
      fromDid: keeper.identity.did,
      toDid: listener.identity.did,
      message: 'ok',
    })
    await waitFor(() => c.store.messages.exists(control.id), { timeout: 15_000 })
    for (const n of nodes) expect(n.store.messages.exists(envelopeId(sneaky))).toBe(false)
  })

  it('discovery never returns the revoked agent, locally or through the network', async () => {
    const did = doomed.identity.did
    await waitFor(() => nodes.every((n) => revoked(n, did)), { timeout: 15_000 })
    for (const [i, n] of nodes.entries()) {
      expect(n.agents.discover('translation').map((x) => x.did)).not.toContain(did)
      const local = (await mesh.call(i, 'POST', '/discover', { capability: 'translation' })).body.agents
      expect(local.map((x: { did: string }) => x.did)).not.toContain(did)
    }
    for (const i of [1, 2]) {
      // the keeper, with the same capability on the same node, is found: the query works
      const found = await waitFor(
        async () => {
          const res = await nodes[i]!.discoverNetwork('translation')
          return res.remote.some((m) => m.record.did === keeper.identity.did) ? res : undefined
        },
        { timeout: 20_000, interval: 250 },
      )
      const all = [...found.local.map((x) => x.did), ...found.remote.map((m) => m.record.did)]
      expect(all, `node ${i}`).not.toContain(did)
      const api = (await mesh.call(i, 'POST', '/discover/network', { capability: 'translation' })).body
      expect(JSON.stringify(api)).not.toContain(did)
    }
  })

  it('revocation is final: no rotation, no second revocation, the record says revoked', async () => {
    const did = doomed.identity.did
    for (let i = 0; i < 3; i++) {
      expect((await mesh.call(i, 'GET', `/agents/${did}`)).body.status).toBe('revoked')
      expect((await mesh.call(i, 'GET', `/keys/${did}`)).body).toMatchObject({
        revoked: true,
        revocation: { reason: 'Key leaked', by: 'self' },
      })
    }
    const rot = await mesh.call(0, 'POST', '/agents/rotate-key', { did })
    expect([rot.status, rot.body.code]).toEqual([403, 'REVOKED'])
    const again = await mesh.call(0, 'POST', '/agents/revoke', { did, reason: 'again' })
    expect([again.status, again.body.code]).toEqual([403, 'REVOKED'])
  })

  it('the controller revokes an agent that keeps its own key: every node shows it was the controller', async () => {
    const own = await ownAgent(nodes[0]!, 'own-key')
    await waitFor(() => nodes.every((n) => n.agents.record(own.did) !== undefined), { timeout: 15_000 })
    const r = await mesh.call(0, 'POST', '/agents/revoke', { did: own.did, reason: 'retired' })
    expect(r.status).toBe(200)
    await waitFor(() => nodes.every((n) => revoked(n, own.did)), { timeout: 15_000 })
    for (const n of nodes) expect(n.store.keyEvents.state(own.did)!.revoked).toMatchObject({ by: 'controller' })
  })

  it('a node that joins later learns the revocations through sync and refuses the revoked DID', async () => {
    const did = doomed.identity.did
    const late = await startNode({ peers: [nodes[2]!.info().multiaddrs[0]!] })
    try {
      await waitFor(() => revoked(late, did), { timeout: 15_000 })
      const v = await late.submitEnvelope(message(keyOf(doomed), did, null, 'late'))
      expect(!v.ok && v.error.code).toBe('REVOKED')
      expect(late.agents.discover('translation').map((x) => x.did)).not.toContain(did)
      expect(late.revoked().find((x) => x.did === did)).toMatchObject({ reason: 'Key leaked', by: 'self' })
    } finally {
      await late.stop()
    }
  })
})
