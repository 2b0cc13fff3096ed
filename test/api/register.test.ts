import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createInception, createRegistration, generateKeyPair, toB64, type KeyPair } from '../../node/core/index.js'
import { expectNo500, startApi, type ApiFixture } from './api-fixture.js'

function byokProof(key: KeyPair, name: string, node: { did: string; peerId: string }, caps: { type: string }[] = []) {
  const now = Date.now()
  const icp = createInception(key, now, generateKeyPair())
  const reg = createRegistration(
    { did: icp.did, name, capabilities: caps, controller: node.did, peerId: node.peerId, ts: now },
    key,
  )
  return { icp, reg }
}

describe('POST /agents/register', () => {
  let fx: ApiFixture
  let health: { did: string; peerId: string }

  beforeAll(async () => {
    fx = await startApi()
    health = (await fx.call('GET', '/health')).body
  })
  afterAll(async () => {
    expectNo500(fx)
    await fx.stop()
  })

  it('node-generated keys: 201 {identity:{did, publicKey, privateKey, credential, createdAt}, record}', async () => {
    const r = await fx.call('POST', '/agents/register', { name: 'my-agent', capabilities: [{ type: 'analysis' }] })
    expect(r.status).toBe(201)
    expect(Object.keys(r.body.identity).sort()).toEqual(['createdAt', 'credential', 'did', 'privateKey', 'publicKey'])
    expect(r.body.identity.credential).toMatch(/^msag_[A-Za-z0-9_-]{43}$/)
    expect(r.body.identity.did).toMatch(/^did:msig:/)
    expect(Buffer.from(r.body.identity.privateKey, 'base64')).toHaveLength(32)
    expect(r.body.record).toMatchObject({
      did: r.body.identity.did,
      name: 'my-agent',
      capabilities: [{ type: 'analysis' }],
      trustScore: 0.5,
      origin: 'local',
    })
    // the private key is returned once: never again by any endpoint
    const again = await fx.call('GET', `/agents/${r.body.identity.did}`)
    expect(again.text).not.toContain(r.body.identity.privateKey)
    expect((await fx.call('GET', '/audit/export')).text).not.toContain(r.body.identity.privateKey)
  })

  it('bring your own key: {name, publicKey, proof:{icp, reg}}; no private key in the answer', async () => {
    const key = generateKeyPair()
    const proof = byokProof(key, 'own-key', health, [{ type: 'search' }])
    const r = await fx.call('POST', '/agents/register', {
      name: 'own-key',
      publicKey: toB64(key.publicKey),
      capabilities: [{ type: 'search' }],
      proof,
    })
    expect(r.status).toBe(201)
    expect(r.body.identity).toEqual({
      did: proof.icp.did,
      publicKey: toB64(key.publicKey),
      createdAt: expect.any(String),
    })
    expect(r.body.record).toMatchObject({
      did: proof.icp.did,
      name: 'own-key',
      origin: 'local',
      originServer: health.did,
    })
  })

  it('bring your own key: registering the same proof again is idempotent on the key log', async () => {
    const key = generateKeyPair()
    const proof = byokProof(key, 'twice', health)
    expect(
      (await fx.call('POST', '/agents/register', { name: 'twice', publicKey: toB64(key.publicKey), proof })).status,
    ).toBe(201)
    const r = await fx.call('POST', '/agents/register', { name: 'twice', publicKey: toB64(key.publicKey), proof })
    expect(r.status).toBe(409)
    expect(r.body.code).toBe('DUPLICATE')
  })

  it('bring your own key: a publicKey that is not the proof key is KEY_MISMATCH', async () => {
    const key = generateKeyPair()
    const r = await fx.call('POST', '/agents/register', {
      name: 'x',
      publicKey: toB64(generateKeyPair().publicKey),
      proof: byokProof(key, 'x', health),
    })
    expect(r.status).toBe(400)
    expect(r.body.code).toBe('KEY_MISMATCH')
  })

  it('bring your own key: a reg that names another node as controller is refused', async () => {
    const key = generateKeyPair()
    const proof = byokProof(key, 'x', { did: `did:msig:${'2'.repeat(44)}`, peerId: health.peerId })
    const r = await fx.call('POST', '/agents/register', { name: 'x', publicKey: toB64(key.publicKey), proof })
    expect(r.status).toBe(400)
    expect(r.body.code).toBe('INVALID_INPUT')
    expect((await fx.call('GET', `/agents/${proof.icp.did}`)).status).toBe(404)
  })

  it('bring your own key: a tampered registration does not verify and registers nothing', async () => {
    const key = generateKeyPair()
    const proof = byokProof(key, 'tamper', health)
    const reg = { ...proof.reg, capabilities: [{ type: 'admin' }] }
    const r = await fx.call('POST', '/agents/register', {
      name: 'tamper',
      publicKey: toB64(key.publicKey),
      proof: { icp: proof.icp, reg },
    })
    expect(r.status).toBe(400)
    expect(r.body.code).toBe('SIGNATURE_INVALID')
    expect((await fx.call('GET', `/agents/${proof.icp.did}`)).status).toBe(404)
  })

  it('bring your own key: a malformed signature in the proof is MALFORMED', async () => {
    const key = generateKeyPair()
    const proof = byokProof(key, 'badsig', health)
    const r = await fx.call('POST', '/agents/register', {
      name: 'badsig',
      publicKey: toB64(key.publicKey),
      proof: { icp: { ...proof.icp, sig: 'not base64!' }, reg: proof.reg },
    })
    expect(r.status).toBe(400)
    expect(r.body.code).toBe('MALFORMED')
  })

  it('bring your own key without proof, or proof without publicKey, is INVALID_INPUT', async () => {
    const key = generateKeyPair()
    const a = await fx.call('POST', '/agents/register', { name: 'x', publicKey: toB64(key.publicKey) })
    expect(a.status).toBe(400)
    expect(a.body.code).toBe('INVALID_INPUT')
    const b = await fx.call('POST', '/agents/register', { name: 'x', proof: byokProof(key, 'x', health) })
    expect(b.status).toBe(400)
    expect(b.body.code).toBe('INVALID_INPUT')
  })

  it.each([
    ['missing name', {}, 'name'],
    ['empty name', { name: '' }, 'name'],
    ['wrong-typed name', { name: 42 }, 'name'],
    ['extra field', { name: 'x', admin: true }, 'admin'],
    ['wrong-typed capabilities', { name: 'x', capabilities: 'analysis' }, 'capabilities'],
    ['capability without type', { name: 'x', capabilities: [{ confidence: 0.5 }] }, 'capabilities.0.type'],
    [
      'confidence out of range',
      { name: 'x', capabilities: [{ type: 'a', confidence: 2 }] },
      'capabilities.0.confidence',
    ],
    ['array body', [], 'body'],
  ])('%s is 400 INVALID_INPUT naming the field', async (_label, body, field) => {
    const before = (await fx.call('GET', '/stats')).body.agents
    const r = await fx.call('POST', '/agents/register', body)
    expect(r.status).toBe(400)
    expect(r.body.code).toBe('INVALID_INPUT')
    expect(r.body.details.field).toBe(field)
    expect((await fx.call('GET', '/stats')).body.agents).toBe(before)
  })

  it('invalid JSON is 400 MALFORMED; a body over the limit is refused', async () => {
    const bad = await fx.raw({
      method: 'POST',
      path: '/agents/register',
      headers: { 'content-type': 'application/json' },
      body: '{"name": ',
    })
    expect(bad.status).toBe(400)
    expect(bad.body.code).toBe('MALFORMED')
    const big = JSON.stringify({ name: 'x', capabilities: [], pad: 'x'.repeat(1.2 * 1024 * 1024) })
    const r = await fx.raw({
      method: 'POST',
      path: '/agents/register',
      headers: { 'content-type': 'application/json' },
      body: big,
    })
    expect(r.status).toBe(413)
    expect(r.body.code).toBe('PAYLOAD_TOO_LARGE')
    expect(r.body.error).toMatch(/exceeds/)
  })
})
