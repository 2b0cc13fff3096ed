import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createInception,
  createRegistration,
  createRevocation,
  createRotation,
  didFromPublicKey,
  envelopeId,
  generateKeyPair,
  keyPairFromB64,
  MAX_TS,
  provenKeyState,
  toB64,
  type KeyPair,
  type KeyState,
} from '../../node/core/index.js'
import { expectNo500, startApi, type ApiFixture } from './api-fixture.js'

describe('rotation and revocation (proof required)', () => {
  let fx: ApiFixture
  let health: { did: string; peerId: string }

  async function byok(name: string): Promise<{ key: KeyPair; next: KeyPair; did: string }> {
    const key = generateKeyPair()
    const next = generateKeyPair()
    const icp = createInception(key, Date.now(), next)
    const reg = createRegistration(
      { did: icp.did, name, capabilities: [], controller: health.did, peerId: health.peerId, ts: Date.now() },
      key,
    )
    expect(
      (await fx.call('POST', '/agents/register', { name, publicKey: toB64(key.publicKey), proof: { icp, reg } }))
        .status,
    ).toBe(201)
    return { key, next, did: icp.did }
  }
  const state = (did: string): KeyState => fx.node.store.keyEvents.state(did)!

  beforeAll(async () => {
    fx = await startApi()
    health = (await fx.call('GET', '/health')).body
  })
  afterAll(async () => {
    expectNo500(fx)
    await fx.stop()
  })

  it('custodied agent, {did} from loopback: rotated with the committed next key; DID stays, old key invalid', async () => {
    const a = (await fx.call('POST', '/agents/register', { name: 'rot' })).body.identity
    const r = await fx.call('POST', '/agents/rotate-key', { did: a.did })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({
      rotated: true,
      did: a.did,
      previousPublicKey: a.publicKey,
      keySeq: 1,
      custodied: true,
    })
    expect(r.body.publicKey).not.toBe(a.publicKey)
    expect(r.body).not.toHaveProperty('privateKey')
    expect(r.body.record.publicKey).toBe(r.body.publicKey)
    const old = await fx.call('POST', '/messages/send', {
      fromDid: a.did,
      toDid: null,
      message: 'x',
      privateKey: a.privateKey,
    })
    expect(old.body.code).toBe('KEY_MISMATCH')
    expect((await fx.call('POST', '/messages/send', { fromDid: a.did, toDid: null, message: 'x' })).status).toBe(200)
    expect((await fx.call('POST', '/agents/rotate-key', { did: a.did })).body.keySeq).toBe(2)
  })

  it('seed style {did, currentPrivateKey} on a custodied agent rotates; a wrong key is KEY_MISMATCH and changes nothing', async () => {
    const a = (await fx.call('POST', '/agents/register', { name: 'rot2' })).body.identity
    const wrong = await fx.call('POST', '/agents/rotate-key', {
      did: a.did,
      currentPrivateKey: toB64(generateKeyPair().seed),
    })
    expect(wrong.status).toBe(400)
    expect(wrong.body.code).toBe('KEY_MISMATCH')
    expect(state(a.did).seq).toBe(0)
    const r = await fx.call('POST', '/agents/rotate-key', { did: a.did, currentPrivateKey: a.privateKey })
    expect(r.status).toBe(200)
    expect(r.body.custodied).toBe(true)
  })

  it('bring-your-own-key agent: {did} alone is 401 UNAUTHORIZED and changes nothing; a signed rot is accepted', async () => {
    const a = await byok('own-rot')
    const none = await fx.call('POST', '/agents/rotate-key', { did: a.did })
    expect(none.status).toBe(401)
    expect(none.body.code).toBe('UNAUTHORIZED')
    expect(state(a.did).seq).toBe(0)
    const rot = createRotation(state(a.did), a.key, a.next, Date.now(), generateKeyPair())
    const r = await fx.call('POST', '/agents/rotate-key', { envelope: rot })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ rotated: true, did: a.did, publicKey: toB64(a.next.publicKey), keySeq: 1 })
  })

  it('bring-your-own-key agent: currentPrivateKey + nextPrivateKey rotates and returns the new commitment once', async () => {
    const a = await byok('own-rot2')
    const missingNext = await fx.call('POST', '/agents/rotate-key', {
      did: a.did,
      currentPrivateKey: toB64(a.key.seed),
    })
    expect(missingNext.status).toBe(400)
    expect(missingNext.body.code).toBe('PRE_ROTATION_MISMATCH')
    const wrongNext = await fx.call('POST', '/agents/rotate-key', {
      did: a.did,
      currentPrivateKey: toB64(a.key.seed),
      nextPrivateKey: toB64(generateKeyPair().seed),
    })
    expect(wrongNext.body.code).toBe('PRE_ROTATION_MISMATCH')
    const r = await fx.call('POST', '/agents/rotate-key', {
      did: a.did,
      currentPrivateKey: toB64(a.key.seed),
      nextPrivateKey: toB64(a.next.seed),
    })
    expect(r.status).toBe(200)
    expect(r.body.publicKey).toBe(toB64(a.next.publicKey))
    expect(Buffer.from(r.body.nextPrivateKey, 'base64')).toHaveLength(32)
    expect(state(a.did).next).not.toBeNull()
  })

  it('a registration the agent dated at the last possible ts does not block the rotation of its custodied key', async () => {
    const a = (await fx.call('POST', '/agents/register', { name: 'pinned' })).body.identity
    const key = keyPairFromB64(a.privateKey)
    const icp = fx.node.store.keyEvents.log(a.did)[0]! // the inception the node made and published
    const reg = createRegistration(
      {
        did: a.did,
        name: 'pinned',
        capabilities: [],
        controller: health.did,
        peerId: health.peerId,
        ts: MAX_TS,
      },
      key,
    )
    // whoever holds the agent's key can sign that registration
    const pinned = await fx.call('POST', '/agents/register', {
      name: 'pinned',
      publicKey: a.publicKey,
      proof: { icp, reg },
    })
    expect(pinned.status).toBe(201)
    const r = await fx.call('POST', '/agents/rotate-key', { did: a.did })
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    expect(r.body).toMatchObject({ rotated: true, did: a.did, keySeq: 1, custodied: true })
    expect(state(a.did).key).toBe(r.body.publicKey)
    expect((await fx.call('POST', '/messages/send', { fromDid: a.did, toDid: null, message: 'after' })).status).toBe(
      200,
    )
    // the registration the new key signed replaces the pinned one, dated now (docs/protocol.md §5)
    const held = fx.node.store.agents.get(a.did)!
    expect(held.regTs).toBeLessThanOrEqual(Date.now())
    expect(held.regId).not.toBe(envelopeId(reg))
    expect(JSON.parse(held.regEnvelope)).toMatchObject({ did: a.did, name: 'pinned', ts: held.regTs })
    // and the pinned one, offered again, is refused and changes nothing
    const again = await fx.call('POST', '/agents/register', {
      name: 'pinned',
      publicKey: a.publicKey,
      proof: { icp, reg },
    })
    expect(again.body.code).toBe('ROTATED_KEY')
    expect(fx.node.store.agents.get(a.did)!.regId).toBe(held.regId)
  })

  it('a registration dated far ahead under a key that leaked gives way to one the rotated key signs', async () => {
    const a = await byok('own-name')
    const icp = fx.node.store.keyEvents.log(a.did)[0]!
    const reg = (name: string, ts: number, key: KeyPair) =>
      createRegistration({ did: a.did, name, capabilities: [], controller: health.did, peerId: health.peerId, ts }, key)
    const register = (name: string, r: ReturnType<typeof reg>) =>
      fx.call('POST', '/agents/register', { name, publicKey: toB64(a.key.publicKey), proof: { icp, reg: r } })
    // whoever holds the leaked key dates a registration far ahead: it stands while that key is current
    expect((await register('thief', reg('thief', Date.now() + 1e12, a.key))).status).toBe(201)
    expect((await register('own-name', reg('own-name', Date.now(), a.key))).body.code).toBe('DUPLICATE')
    expect(fx.node.store.agents.get(a.did)!.name).toBe('thief')
    // the owner rotates to the key committed before the theft, and registers again with it
    const rot = createRotation(state(a.did), a.key, a.next, Date.now(), generateKeyPair())
    expect((await fx.call('POST', '/agents/rotate-key', { envelope: rot })).status).toBe(200)
    const back = await register('own-name', reg('own-name', Date.now(), a.next))
    expect(back.status, JSON.stringify(back.body)).toBe(201)
    expect(fx.node.store.agents.get(a.did)!.name).toBe('own-name')
    expect((await fx.call('GET', `/agents/${a.did}`)).body.name).toBe('own-name')
  })

  it('a rot signed by the wrong key is refused and changes nothing; an envelope for another DID is INVALID_INPUT', async () => {
    const a = await byok('own-rot3')
    const bad = createRotation(state(a.did), generateKeyPair(), a.next, Date.now(), null)
    const r = await fx.call('POST', '/agents/rotate-key', { envelope: bad })
    expect(r.status).toBe(400)
    expect(r.body.code).toBe('SIGNATURE_INVALID')
    expect(state(a.did).seq).toBe(0)
    const b = await byok('own-rot4')
    const other = await fx.call('POST', '/agents/rotate-key', {
      did: b.did,
      envelope: createRotation(state(a.did), a.key, a.next, Date.now(), null),
    })
    expect(other.status).toBe(400)
    expect(other.body.code).toBe('INVALID_INPUT')
    expect(state(a.did).seq).toBe(0)
  })

  it('rotating the node key through the API is refused; unknown DID is 404; bad body is 400', async () => {
    expect((await fx.call('POST', '/agents/rotate-key', { did: health.did })).body.code).toBe('FORBIDDEN')
    const unknown = await fx.call('POST', '/agents/rotate-key', { did: `did:msig:${'3'.repeat(44)}` })
    expect(unknown.status).toBe(404)
    expect((await fx.call('POST', '/agents/rotate-key', {})).body.code).toBe('INVALID_INPUT')
    expect((await fx.call('POST', '/agents/rotate-key', { did: 5 })).body.code).toBe('INVALID_INPUT')
    expect((await fx.call('POST', '/agents/rotate-key', { did: 'x', extra: 1 })).body.code).toBe('INVALID_INPUT')
  })

  it('revoke a custodied agent with {did, reason}: final, listed in /revoked, 403 afterwards', async () => {
    const a = (await fx.call('POST', '/agents/register', { name: 'rev' })).body.identity
    const r = await fx.call('POST', '/agents/revoke', { did: a.did, reason: 'Compromised key' })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ revoked: true, did: a.did, reason: 'Compromised key', final: true })
    const list = (await fx.call('GET', '/revoked')).body.revoked
    expect(list.find((x: { did: string }) => x.did === a.did)).toMatchObject({
      reason: 'Compromised key',
      name: 'rev',
      by: 'self',
    })
    expect((await fx.call('GET', `/agents/${a.did}`)).body.status).toBe('revoked')
    const again = await fx.call('POST', '/agents/revoke', { did: a.did })
    expect(again.status).toBe(403)
    expect(again.body.code).toBe('REVOKED')
    expect((await fx.call('POST', '/agents/rotate-key', { did: a.did })).status).toBe(403)
  })

  it('revoke a bring-your-own-key agent: {did} alone from loopback uses the controller (this node) key', async () => {
    const a = await byok('own-rev')
    const r = await fx.call('POST', '/agents/revoke', { did: a.did, reason: 'operator' })
    expect(r.status).toBe(200)
    expect((await fx.call('GET', '/revoked')).body.revoked.find((x: { did: string }) => x.did === a.did).by).toBe(
      'controller',
    )
  })

  it('revoke with a signed rev envelope, or with the private key; a wrong key is KEY_MISMATCH', async () => {
    const a = await byok('own-rev2')
    const wrong = await fx.call('POST', '/agents/revoke', { did: a.did, privateKey: toB64(generateKeyPair().seed) })
    expect(wrong.body.code).toBe('KEY_MISMATCH')
    expect(state(a.did).revoked).toBeNull()
    const forged = createRevocation(state(a.did), generateKeyPair(), 'forged', Date.now())
    const f = await fx.call('POST', '/agents/revoke', { envelope: forged })
    expect(f.status).toBe(400)
    expect(f.body.code).toBe('SIGNATURE_INVALID')
    expect(state(a.did).revoked).toBeNull()
    const rev = createRevocation(state(a.did), a.key, 'retired', Date.now())
    expect((await fx.call('POST', '/agents/revoke', { envelope: rev })).status).toBe(200)
    const b = await byok('own-rev3')
    expect((await fx.call('POST', '/agents/revoke', { did: b.did, privateKey: toB64(b.key.seed) })).status).toBe(200)
  })

  it('revoking a DID this node does not host needs proof: 401 without; unknown DID 404', async () => {
    const stranger = generateKeyPair()
    const icp = createInception(stranger, Date.now(), null)
    expect((await fx.node.submitEnvelope(icp)).ok).toBe(true)
    const r = await fx.call('POST', '/agents/revoke', { did: icp.did })
    expect(r.status).toBe(401)
    expect(r.body.code).toBe('UNAUTHORIZED')
    expect((await fx.call('POST', '/agents/revoke', { did: `did:msig:${'4'.repeat(44)}` })).status).toBe(404)
    expect((await fx.call('POST', '/agents/revoke', { reason: 'x' })).body.code).toBe('INVALID_INPUT')
    expect((await fx.call('POST', '/agents/revoke', { did: icp.did, reason: 7 })).body.code).toBe('INVALID_INPUT')
    expect(keyPairFromB64(toB64(stranger.seed)).publicKey).toEqual(stranger.publicKey)
  })

  it('GET /keys/:did gives the signed key events, which replay from the DID alone to the key it names', async () => {
    const a = (await fx.call('POST', '/agents/register', { name: 'keylog' })).body.identity
    expect((await fx.call('POST', '/agents/rotate-key', { did: a.did })).status).toBe(200)
    expect((await fx.call('POST', '/agents/rotate-key', { did: a.did })).status).toBe(200)
    const rotated = (await fx.call('GET', `/keys/${a.did}`)).body
    expect(rotated.keyEvents.map((e: { type: string; seq: number }) => `${e.type}${e.seq}`)).toEqual([
      'icp0',
      'rot1',
      'rot2',
    ])
    expect(provenKeyState(a.did, rotated.keyEvents)).toMatchObject({ seq: 2, key: rotated.publicKey })
    expect(provenKeyState(a.did, rotated.keyEvents).priorKeys).toEqual(rotated.priorKeys)
    // revoked (signed with its custodied key: its own event at seq 3): the revocation comes last, and the key
    // named is still the one the inception and rotations prove
    expect((await fx.call('POST', '/agents/revoke', { did: a.did, reason: 'done' })).status).toBe(200)
    const revoked = (await fx.call('GET', `/keys/${a.did}`)).body
    expect(revoked).toMatchObject({ revoked: true, keySeq: 3 })
    expect(revoked.keyEvents.at(-1)).toMatchObject({ type: 'rev', did: a.did })
    expect(provenKeyState(a.did, revoked.keyEvents).key).toBe(revoked.publicKey)
    // a DID with no known log: no events (the key it names is its inception key)
    const unknown = (await fx.call('GET', `/keys/${didFromPublicKey(generateKeyPair().publicKey)}`)).body
    expect(unknown).toMatchObject({ known: false, keyEvents: [] })
  })
})
