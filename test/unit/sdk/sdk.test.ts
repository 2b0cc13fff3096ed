import { describe, expect, it } from 'vitest'
import {
  DEFAULT_MAX_SKEW_MS,
  createInception,
  createMessage,
  createRotation,
  didFromPublicKey,
  didKeyFromPublicKey,
  fromB64,
  generateIdentity,
  generateKeyPair,
  publicKeyFromDid,
  randomNonce,
  replayKeyEvents,
  sign,
  toB64,
  verify,
  verifyEnvelope,
  type MeshsigError,
} from '../../../node/index.js'

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p
    return undefined
  } catch (err) {
    return (err as MeshsigError).code
  }
}

describe('generateIdentity / sign / verify (seed-compatible SDK)', () => {
  it('makes an identity whose DID, did:key and public key name one key', async () => {
    const id = await generateIdentity()
    const pk = fromB64(id.publicKey, 'pk', 32)
    expect(id.did).toBe(didFromPublicKey(pk))
    expect(id.didKey).toBe(didKeyFromPublicKey(pk))
    expect(fromB64(id.privateKey, 'sk', 32)).toHaveLength(32)
    expect(Number.isNaN(Date.parse(id.createdAt))).toBe(false)
  })

  it('the README example: sign then verify under publicKey, did and didKey', async () => {
    const agent = await generateIdentity()
    const signature = await sign('hello', agent.privateKey)
    expect(await verify('hello', signature, agent.publicKey)).toBe(true)
    expect(await verify('hello', signature, agent.did)).toBe(true)
    expect(await verify('hello', signature, agent.didKey)).toBe(true)
    expect(await verify('hello!', signature, agent.publicKey)).toBe(false)
  })

  it('signs strings as UTF-8 bytes: a string and its UTF-8 bytes give the same signature', async () => {
    const agent = await generateIdentity()
    const text = 'Grüße, 世界 🌍'
    expect(await sign(text, agent.privateKey)).toBe(await sign(new TextEncoder().encode(text), agent.privateKey))
  })

  it('a wrong or malformed signature is a negative answer (false), not an error', async () => {
    const agent = await generateIdentity()
    const other = await generateIdentity()
    const sig = await sign('m', other.privateKey)
    expect(await verify('m', sig, agent.publicKey)).toBe(false)
    expect(await verify('m', 'not base64!', agent.publicKey)).toBe(false)
    expect(await verify('m', toB64(new Uint8Array(63)), agent.publicKey)).toBe(false)
    expect(await verify('m', '', agent.publicKey)).toBe(false)
  })

  it('a malformed key or DID throws a typed error (caller mistake)', async () => {
    expect(await codeOf(verify('m', 'AAAA', 'not-a-key'))).toBe('INVALID_KEY')
    expect(await codeOf(verify('m', 'AAAA', toB64(new Uint8Array(31))))).toBe('INVALID_KEY')
    expect(await codeOf(verify('m', 'AAAA', 'did:msig:0OIl'))).toBe('INVALID_DID')
    expect(await codeOf(verify('m', 'AAAA', 'did:web:example.com'))).toBe('INVALID_DID')
    expect(await codeOf(sign('m', 'short'))).toBe('INVALID_KEY')
    expect(await codeOf(sign('m', toB64(new Uint8Array(33))))).toBe('INVALID_KEY')
  })
})

describe('verifyEnvelope (offline acceptance)', () => {
  const NOW = 1_764_000_000_000
  const alice = generateKeyPair()
  const from = didFromPublicKey(alice.publicKey)
  const message = (ts = NOW) => createMessage({ from, to: null, body: 'hi', ts, nonce: randomNonce() }, alice)

  it('accepts a valid envelope and returns its id', () => {
    const verdict = verifyEnvelope(message())
    expect(verdict.ok).toBe(true)
    if (verdict.ok) expect(verdict.id).toMatch(/^[0-9a-f]{64}$/)
  })

  it('applies freshness only when `now` is given', () => {
    const old = message(NOW - 10 * 60 * 1000)
    expect(verifyEnvelope(old).ok).toBe(true)
    const verdict = verifyEnvelope(old, { now: NOW })
    expect(verdict.ok).toBe(false)
    if (!verdict.ok) expect(verdict.error.code).toBe('CLOCK_SKEW')
    expect(verifyEnvelope(old, { now: NOW, maxSkewMs: 11 * 60 * 1000 }).ok).toBe(true)
    expect(DEFAULT_MAX_SKEW_MS).toBe(5 * 60 * 1000)
  })

  it('consults the replay cache the caller passes', () => {
    const env = message()
    const verdict = verifyEnvelope(env, { now: NOW, nonceSeen: (f, n) => f === from && n === env.nonce })
    expect(!verdict.ok && verdict.error.code).toBe('REPLAY')
  })

  it('rejects tampering and garbage with typed codes', () => {
    const tampered = { ...message(), body: 'ho' }
    const v1 = verifyEnvelope(tampered)
    expect(!v1.ok && v1.error.code).toBe('SIGNATURE_INVALID')
    const v2 = verifyEnvelope({ v: 1, type: 'msg' })
    expect(!v2.ok && v2.error.code).toBe('MALFORMED')
    const v3 = verifyEnvelope('not an envelope')
    expect(!v3.ok && v3.error.code).toBe('MALFORMED')
  })

  it('never throws, even for a body JCS cannot encode (lone surrogate)', () => {
    const env = { ...message(), body: 'x\uD800y' }
    const verdict = verifyEnvelope(env)
    expect(!verdict.ok && verdict.error.code).toBe('MALFORMED')
  })

  it('uses the key states it is given: a rotated-out key is ROTATED_KEY', () => {
    const k0 = generateKeyPair()
    const k1 = generateKeyPair()
    const icp = createInception(k0, NOW, k1)
    const state0 = replayKeyEvents([icp])
    const state1 = replayKeyEvents([icp, createRotation(state0, k0, k1, NOW + 1)])
    const did = didFromPublicKey(k0.publicKey)
    expect(publicKeyFromDid(did)).toEqual(k0.publicKey)
    const oldKeyMsg = createMessage({ from: did, to: null, body: 'x', ts: NOW, nonce: randomNonce() }, k0)
    expect(verifyEnvelope(oldKeyMsg).ok).toBe(true) // offline without a log: inception key
    const states = new Map([[did, state1]])
    const verdict = verifyEnvelope(oldKeyMsg, { keyStates: states })
    expect(!verdict.ok && verdict.error.code).toBe('ROTATED_KEY')
    const newKeyMsg = createMessage({ from: did, to: null, body: 'x', ts: NOW, nonce: randomNonce() }, k1)
    expect(verifyEnvelope(newKeyMsg, { keyStates: (d) => states.get(d) }).ok).toBe(true)
  })
})
