import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair, toB64, utf8 } from '../../node/core/index.js'
import { HANDSHAKE_PROTOCOL } from '../../node/p2p/index.js'
import { signProof } from '../../node/services/handshake-service.js'
import type { HandshakeProof } from '../../node/services/handshake-wire.js'
import { waitFor } from '../helpers/wait-for.js'
import { expectNo500, startApi, type ApiFixture } from './api-fixture.js'

const handshakeEntries = (fx: ApiFixture) =>
  fx.node.store.auditEntries
    .entries(0, 100_000)
    .filter((r) => (JSON.parse(r.entry) as { kind: string }).kind === 'handshake').length

describe('POST /handshake on one node', () => {
  let fx: ApiFixture
  let a: { did: string; privateKey: string }
  let b: { did: string; privateKey: string }
  beforeAll(async () => {
    fx = await startApi()
    a = (await fx.call('POST', '/agents/register', { name: 'a' })).body.identity
    b = (await fx.call('POST', '/agents/register', { name: 'b' })).body.identity
  })
  afterAll(async () => {
    expectNo500(fx)
    await fx.stop()
  })

  it('mutual challenge-response: both signed transcripts, verified, stored once, audited', async () => {
    const r = await fx.call('POST', '/handshake', { fromDid: a.did, toDid: b.did })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ established: true, verified: true })
    const c = r.body.connection
    expect(c).toMatchObject({ fromDid: a.did, toDid: b.did, verified: true })
    const t = c.transcript as { initiator: HandshakeProof; responder: HandshakeProof }
    // each side signed the other's fresh nonce
    expect(t.responder.challenge).toBe(t.initiator.nonce)
    expect(t.initiator.challenge).toBe(t.responder.nonce)
    expect(t.initiator.did).toBe(a.did)
    expect(t.responder.did).toBe(b.did)
    expect((await fx.call('GET', '/connections')).body.connections.map((x: { id: string }) => x.id)).toEqual([c.id])
    expect(handshakeEntries(fx)).toBe(1)
  })

  it('privateKey of fromDid works (seed style); a wrong one is KEY_MISMATCH and creates nothing', async () => {
    const before = (await fx.call('GET', '/stats')).body.connections
    const wrong = await fx.call('POST', '/handshake', {
      fromDid: a.did,
      toDid: b.did,
      privateKey: toB64(generateKeyPair().seed),
    })
    expect(wrong.status).toBe(400)
    expect(wrong.body.code).toBe('KEY_MISMATCH')
    expect((await fx.call('GET', '/stats')).body.connections).toBe(before)
    const ok = await fx.call('POST', '/handshake', { fromDid: b.did, toDid: a.did, privateKey: b.privateKey })
    expect(ok.status).toBe(200)
  })

  it('unknown toDid is 404; self, missing or extra fields are 400; revoked is 403', async () => {
    expect((await fx.call('POST', '/handshake', { fromDid: a.did, toDid: `did:msig:${'5'.repeat(44)}` })).status).toBe(
      404,
    )
    expect((await fx.call('POST', '/handshake', { fromDid: a.did, toDid: a.did })).body.code).toBe('INVALID_INPUT')
    expect((await fx.call('POST', '/handshake', { fromDid: a.did })).body.code).toBe('INVALID_INPUT')
    expect((await fx.call('POST', '/handshake', { fromDid: a.did, toDid: b.did, x: 1 })).body.code).toBe(
      'INVALID_INPUT',
    )
    expect((await fx.call('POST', '/handshake', { fromDid: 1, toDid: b.did })).body.code).toBe('INVALID_INPUT')
    const c = (await fx.call('POST', '/agents/register', { name: 'c' })).body.identity
    await fx.call('POST', '/agents/revoke', { did: c.did })
    const r1 = await fx.call('POST', '/handshake', { fromDid: a.did, toDid: c.did })
    expect(r1.status).toBe(403)
    expect(r1.body.code).toBe('REVOKED')
    expect((await fx.call('POST', '/handshake', { fromDid: c.did, toDid: a.did })).status).toBe(403)
  })

  it('an agent whose key the node does not hold cannot be spoken for: 403', async () => {
    const r = await fx.call('POST', '/handshake', { fromDid: fx.node.did, toDid: a.did })
    expect(r.status).toBe(403)
    expect(r.body.code).toBe('FORBIDDEN')
  })
})

describe('POST /handshake between agents on two nodes (libp2p /meshsig/handshake/1.0.0)', () => {
  let n1: ApiFixture
  let n2: ApiFixture
  const reg = async (fx: ApiFixture, name: string) =>
    (await fx.call('POST', '/agents/register', { name })).body.identity as { did: string; privateKey: string }
  const knows = (fx: ApiFixture, did: string) =>
    waitFor(() => fx.node.agents.record(did) !== undefined, { timeout: 15_000 })
  const connections = async (fx: ApiFixture) =>
    (await fx.call('GET', '/connections')).body.connections as { id: string }[]

  beforeAll(async () => {
    n1 = await startApi()
    n2 = await startApi({}, {}, { peers: [n1.node.info().multiaddrs[0]!] })
    await waitFor(() => n1.node.peers().length > 0 && n2.node.peers().length > 0, { timeout: 15_000 })
  })
  afterAll(async () => {
    expectNo500(n1)
    expectNo500(n2)
    await n2.stop()
    await n1.stop()
  })

  it('succeeds, and both nodes hold the same connection with both transcripts', async () => {
    const a = await reg(n1, 'alice')
    const b = await reg(n2, 'bob')
    await knows(n1, b.did)
    const r = await n1.call('POST', '/handshake', { fromDid: a.did, toDid: b.did })
    expect(r.status).toBe(200)
    const id = r.body.connection.id
    expect((await connections(n1)).map((c) => c.id)).toEqual([id])
    const on2 = await connections(n2)
    expect(on2).toHaveLength(1)
    expect(on2[0]).toMatchObject({ id, fromDid: a.did, toDid: b.did, transcript: r.body.connection.transcript })
    expect(handshakeEntries(n1)).toBe(1)
    expect(handshakeEntries(n2)).toBe(1)
  })

  it('a responder node holding a wrong key for its agent refuses; nothing is stored on either node', async () => {
    const a = await reg(n1, 'carol')
    const b = await reg(n2, 'dave')
    await knows(n1, b.did)
    const bad = generateKeyPair()
    n2.node.store.custody.put({ did: b.did, seed: toB64(bad.seed), nextSeed: null, createdAt: Date.now() })
    const before = [
      (await connections(n1)).length,
      (await connections(n2)).length,
      handshakeEntries(n1),
      handshakeEntries(n2),
    ]
    const r = await n1.call('POST', '/handshake', { fromDid: a.did, toDid: b.did })
    expect(r.status).toBe(400)
    expect(r.body.code).toBe('KEY_MISMATCH')
    expect([
      (await connections(n1)).length,
      (await connections(n2)).length,
      handshakeEntries(n1),
      handshakeEntries(n2),
    ]).toEqual(before)
  })

  it('an initiator node holding a wrong key for its agent fails before anything is stored', async () => {
    const a = await reg(n1, 'erin')
    const b = await reg(n2, 'frank')
    await knows(n1, b.did)
    n1.node.store.custody.put({
      did: a.did,
      seed: toB64(generateKeyPair().seed),
      nextSeed: null,
      createdAt: Date.now(),
    })
    const before = [(await connections(n1)).length, (await connections(n2)).length]
    const r = await n1.call('POST', '/handshake', { fromDid: a.did, toDid: b.did })
    expect(r.status).toBe(400)
    expect(r.body.code).toBe('KEY_MISMATCH')
    expect([(await connections(n1)).length, (await connections(n2)).length]).toEqual(before)
  })

  it("a responder whose answer does not verify (signed with another key) creates nothing on the initiator's node", async () => {
    const n3 = await startApi({}, {}, { peers: [n1.node.info().multiaddrs[0]!] })
    try {
      const a = await reg(n1, 'gina')
      const b = await reg(n3, 'hank')
      await knows(n1, b.did)
      const liar = generateKeyPair()
      await n3.node.mesh.registerProtocol(HANDSHAKE_PROTOCOL, (req) => {
        const q = JSON.parse(Buffer.from(req).toString('utf8')) as { from: string; to: string; nonce: string }
        const proof = signProof(
          {
            v: 1,
            type: 'hs',
            role: 'responder',
            did: q.to,
            peer: q.from,
            challenge: q.nonce,
            nonce: toB64(generateKeyPair().seed.slice(0, 16)),
            ts: Date.now(),
          },
          liar,
        )
        return utf8(JSON.stringify({ proof }))
      })
      const before = [(await connections(n1)).length, handshakeEntries(n1)]
      const r = await n1.call('POST', '/handshake', { fromDid: a.did, toDid: b.did })
      expect(r.status).toBe(400)
      expect(r.body.code).toBe('SIGNATURE_INVALID')
      expect([(await connections(n1)).length, handshakeEntries(n1)]).toEqual(before)
      expect(await connections(n3)).toEqual([])
      expectNo500(n3)
    } finally {
      await n3.stop()
    }
  })

  it('an initiator whose confirmation does not verify is refused by the responder, which stores nothing', async () => {
    const a = await reg(n1, 'ivy')
    const b = await reg(n2, 'jack')
    await knows(n2, a.did)
    const peer = n2.node.info().peerId
    const nonce = toB64(generateKeyPair().seed.slice(0, 16))
    const ask = (body: unknown) => n1.node.mesh.request(peer, HANDSHAKE_PROTOCOL, utf8(JSON.stringify(body)))
    const answer = JSON.parse(
      Buffer.from(await ask({ step: 'challenge', from: a.did, to: b.did, nonce, ts: Date.now() })).toString('utf8'),
    ) as { proof: HandshakeProof }
    const forged = signProof(
      {
        v: 1,
        type: 'hs',
        role: 'initiator',
        did: a.did,
        peer: b.did,
        challenge: answer.proof.nonce,
        nonce,
        ts: Date.now(),
      },
      generateKeyPair(),
    )
    const before = [(await connections(n2)).length, handshakeEntries(n2)]
    await expect(
      ask({ step: 'confirm', transcript: { v: 1, initiator: forged, responder: answer.proof } }),
    ).rejects.toMatchObject({
      code: 'PEER_ERROR',
      details: expect.objectContaining({ remoteCode: 'SIGNATURE_INVALID' }),
    })
    expect([(await connections(n2)).length, handshakeEntries(n2)]).toEqual(before)
    // the pending challenge was used up: a second try with the right answer is refused too
    await expect(
      ask({ step: 'confirm', transcript: { v: 1, initiator: forged, responder: answer.proof } }),
    ).rejects.toMatchObject({
      details: expect.objectContaining({ remoteCode: 'FORBIDDEN' }),
    })
  })
})
