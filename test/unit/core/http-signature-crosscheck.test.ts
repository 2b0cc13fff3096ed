// Cross-check with an independent RFC 9421 implementation (the http-message-signatures
// library): it verifies what meshsig signs, and meshsig verifies what it signs.
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto'
import { httpbis, createSigner, createVerifier, type Request as LibRequest } from 'http-message-signatures'
import { describe, expect, it } from 'vitest'
import {
  contentDigest,
  didFromPublicKey,
  generateKeyPair,
  signRequest,
  toB64,
  verifyRequestSignature,
  type HttpRequestLike,
} from '../../../node/index.js'

const key = generateKeyPair()
const did = didFromPublicKey(key.publicKey)
const jwk = {
  kty: 'OKP',
  crv: 'Ed25519',
  x: Buffer.from(key.publicKey).toString('base64url'),
  d: Buffer.from(key.seed).toString('base64url'),
}
const publicKeyObject = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: 'jwk' })
const privateKeyObject = createPrivateKey({ key: jwk, format: 'jwk' })

const BODY = '{"op":"deploy","model":"m-7"}'

function ours(): HttpRequestLike {
  return {
    method: 'POST',
    authority: 'gateway.internal:3001',
    path: '/agents/run?priority=high&x=%20y',
    headers: { host: 'gateway.internal:3001', 'content-type': 'application/json' },
    body: BODY,
  }
}

function asLibrary(req: HttpRequestLike, headers: Record<string, string>): LibRequest {
  const flat: Record<string, string> = {}
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') flat[k] = v
  return { method: req.method, url: `http://${req.authority}${req.path}`, headers: { ...flat, ...headers } }
}

describe('meshsig ↔ http-message-signatures', () => {
  it('the library verifies a meshsig signature (and rejects it after tampering)', async () => {
    const req = ours()
    const headers = signRequest(req, { signer: key, keyid: did, now: Date.now(), nonce: toB64(randomBytes(16)) })
    const keyLookup = (params: { keyid?: string }) =>
      Promise.resolve(
        params.keyid === did
          ? { id: did, algs: ['ed25519'], verify: createVerifier(publicKeyObject, 'ed25519') }
          : null,
      )
    const config = { keyLookup, requiredFields: ['@method', '@authority', '@path', '@query', 'content-digest'] }
    await expect(httpbis.verifyMessage(config, asLibrary(req, { ...headers }))).resolves.toBe(true)
    const tampered = asLibrary({ ...req, path: '/agents/run?priority=low&x=%20y' }, { ...headers })
    await expect(httpbis.verifyMessage(config, tampered)).resolves.toBe(false)
  })

  it('meshsig verifies a signature the library made with meshsig parameters', async () => {
    const req = ours()
    const lib = asLibrary(req, { 'content-digest': contentDigest(BODY) })
    const now = new Date()
    const signed = await httpbis.signMessage(
      {
        key: createSigner(privateKeyObject, 'ed25519', did),
        name: 'meshsig',
        fields: ['@method', '@authority', '@path', '@query', 'content-digest', 'content-type'],
        params: ['created', 'expires', 'nonce', 'alg', 'keyid', 'tag'],
        paramValues: {
          created: now,
          expires: new Date(now.getTime() + 60_000),
          nonce: toB64(randomBytes(16)),
          tag: 'meshsig',
        },
      },
      lib,
    )
    const verdict = await verifyRequestSignature(
      { ...req, headers: signed.headers },
      { now: Date.now(), resolveKey: (id) => (id === did ? key.publicKey : undefined) },
    )
    expect(verdict.ok ? verdict.signature.keyid : verdict.error.message).toBe(did)
  })
})
