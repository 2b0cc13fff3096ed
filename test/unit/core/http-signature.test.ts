import { describe, expect, it } from 'vitest'
import {
  contentDigest,
  contentDigestMatches,
  didFromPublicKey,
  generateKeyPair,
  keyPairFromSeed,
  NonceCache,
  parseHttpSignatures,
  resolveInceptionKey,
  signatureBase,
  signRequest,
  splitTarget,
  toB64,
  utf8,
  verifyRequestSignature,
  verifySignature,
  type HttpRequestLike,
  type SignRequestOptions,
  type VerifyRequestOptions,
} from '../../../node/index.js'

// RFC 9421 Appendix B.1.4: test-key-ed25519 (JWK d and x, base64url).
const B14_SEED = new Uint8Array(Buffer.from('n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU', 'base64url'))
const B14_PUBLIC = new Uint8Array(Buffer.from('JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs', 'base64url'))

// RFC 9421 Appendix B.2.6: the test request and its Ed25519 signature.
const B26_INPUT =
  'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"'
const B26_SIGNATURE =
  'sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:'
const B26_BASE = [
  '"date": Tue, 20 Apr 2021 02:07:55 GMT',
  '"@method": POST',
  '"@path": /foo',
  '"@authority": example.com',
  '"content-type": application/json',
  '"content-length": 18',
  '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
].join('\n')
const B26_REQUEST: HttpRequestLike = {
  method: 'POST',
  authority: 'example.com',
  path: '/foo?param=Value&Pet=dog',
  headers: {
    host: 'example.com',
    date: 'Tue, 20 Apr 2021 02:07:55 GMT',
    'content-type': 'application/json',
    'content-digest':
      'sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:',
    'content-length': '18',
    'signature-input': B26_INPUT,
    signature: B26_SIGNATURE,
  },
  body: '{"hello": "world"}',
}

describe('RFC 9421 Appendix B.2.6 (Ed25519)', () => {
  it('the B.1.4 seed gives the B.1.4 public key', () => {
    expect(toB64(keyPairFromSeed(B14_SEED).publicKey)).toBe(toB64(B14_PUBLIC))
  })

  it('reproduces the exact signature base from the parsed Signature-Input', () => {
    const [sig] = parseHttpSignatures(B26_REQUEST.headers)
    expect(sig?.label).toBe('sig-b26')
    expect(sig?.components).toEqual(['date', '@method', '@path', '@authority', 'content-type', 'content-length'])
    expect(signatureBase(B26_REQUEST, sig!)).toBe(B26_BASE)
  })

  it('reproduces the exact signature (Ed25519 is deterministic) and verifies it', () => {
    const [sig] = parseHttpSignatures(B26_REQUEST.headers)
    const signed = keyPairFromSeed(B14_SEED).sign(utf8(B26_BASE))
    expect(`sig-b26=:${toB64(signed)}:`).toBe(B26_SIGNATURE)
    expect(verifySignature(utf8(signatureBase(B26_REQUEST, sig!)), sig!.signature, B14_PUBLIC)).toBe(true)
  })

  it('is not accepted as a meshsig signature (no tag, nonce, expires)', async () => {
    const verdict = await verifyRequestSignature(B26_REQUEST, { now: 1618884473_000, resolveKey: () => B14_PUBLIC })
    expect(verdict.ok || verdict.error.code).toBe('MALFORMED')
  })
})

describe('Content-Digest (RFC 9530)', () => {
  it('sha-256 of the RFC 9530 example body', () => {
    expect(contentDigest('{"hello": "world"}')).toBe('sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:')
    expect(contentDigest(undefined)).toBe('sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:')
  })

  it('matches, mismatches and refuses a header without sha-256', () => {
    const digest = contentDigest('abc')
    expect(contentDigestMatches(digest, utf8('abc'))).toBe(true)
    expect(contentDigestMatches(`sha-512=:AAAA:, ${digest}`, 'abc')).toBe(true)
    expect(contentDigestMatches(digest, 'abd')).toBe(false)
    expect(() => contentDigestMatches('sha-512=:AAAA:', 'abc')).toThrow(/sha-256/)
    expect(() => contentDigestMatches('not a dictionary ((', 'abc')).toThrow(/dictionary/)
  })
})

describe('splitTarget', () => {
  it('splits path and query the way @path and @query need', () => {
    expect(splitTarget('/foo?a=1&b=2')).toEqual({ path: '/foo', query: '?a=1&b=2' })
    expect(splitTarget('/foo')).toEqual({ path: '/foo', query: '?' })
    expect(splitTarget('')).toEqual({ path: '/', query: '?' })
    expect(splitTarget('/x?')).toEqual({ path: '/x', query: '?' })
    expect(splitTarget('http://h:1/p?q#frag')).toEqual({ path: '/p', query: '?q' })
  })
})

const NOW = 1_750_000_000_000
const key = generateKeyPair()
const did = didFromPublicKey(key.publicKey)

function request(overrides: Partial<HttpRequestLike> = {}): HttpRequestLike {
  return {
    method: 'POST',
    authority: '127.0.0.1:3001',
    path: '/v1/run?task=build',
    headers: { host: '127.0.0.1:3001', 'content-type': 'application/json' },
    body: '{"task":"build"}',
    ...overrides,
  }
}

function signed(req: HttpRequestLike = request(), opts: Partial<SignRequestOptions> = {}): HttpRequestLike {
  const headers = signRequest(req, {
    signer: key,
    keyid: did,
    now: NOW,
    nonce: toB64(new Uint8Array(16).fill(7)),
    ...opts,
  })
  return { ...req, headers: { ...req.headers, ...headers } }
}

function options(overrides: Partial<VerifyRequestOptions> = {}): VerifyRequestOptions {
  return { now: NOW + 1000, resolveKey: (id) => (id === did ? key.publicKey : undefined), ...overrides }
}

async function codeOf(req: HttpRequestLike, opts: VerifyRequestOptions = options()): Promise<string> {
  const verdict = await verifyRequestSignature(req, opts)
  return verdict.ok ? 'OK' : verdict.error.code
}

describe('signRequest / verifyRequestSignature', () => {
  it('round trip: the headers name the DID, tag meshsig, ed25519, created/expires 60 s apart, a nonce', async () => {
    const req = signed()
    expect(req.headers['signature-input']).toBe(
      'meshsig=("@method" "@authority" "@path" "@query" "content-digest" "content-type");' +
        `created=1750000000;expires=1750000060;nonce="BwcHBwcHBwcHBwcHBwcHBw==";alg="ed25519";keyid="${did}";tag="meshsig"`,
    )
    const verdict = await verifyRequestSignature(req, options())
    expect(verdict).toMatchObject({
      ok: true,
      signature: { keyid: did, created: 1750000000, expires: 1750000060, nonce: 'BwcHBwcHBwcHBwcHBwcHBw==' },
    })
  })

  it('signs requests without a body or query, and resolves did:msig keys with resolveInceptionKey', async () => {
    const req = signed(request({ method: 'GET', path: '/', headers: { host: 'gw' }, body: undefined }))
    expect(req.headers['content-digest']).toBe(contentDigest(undefined))
    expect(await codeOf(req, options({ resolveKey: resolveInceptionKey }))).toBe('OK')
  })

  it('replaces a Content-Digest or signature the caller had set', async () => {
    const req = signed(request({ headers: { host: 'x', 'content-digest': 'sha-256=:AAAA:', signature: 'x=:AAAA:' } }))
    expect(req.headers['content-digest']).toBe(contentDigest(request().body))
    expect(await codeOf(req)).toBe('OK')
  })

  it.each([
    ['method', { method: 'PUT' }],
    ['path', { path: '/v1/delete?task=build' }],
    ['query', { path: '/v1/run?task=deploy' }],
    ['authority', { authority: 'evil.example:3001' }],
  ])('tampered %s → SIGNATURE_INVALID', async (_what, change) => {
    expect(await codeOf({ ...signed(), ...change })).toBe('SIGNATURE_INVALID')
  })

  it('tampered body, digest, content-type or signature → SIGNATURE_INVALID', async () => {
    const req = signed()
    expect(await codeOf({ ...req, body: '{"task":"rm -rf"}' })).toBe('SIGNATURE_INVALID')
    const digest = contentDigest('{"task":"rm -rf"}')
    expect(
      await codeOf({ ...req, body: '{"task":"rm -rf"}', headers: { ...req.headers, 'content-digest': digest } }),
    ).toBe('SIGNATURE_INVALID')
    expect(await codeOf({ ...req, headers: { ...req.headers, 'content-type': 'text/plain' } })).toBe(
      'SIGNATURE_INVALID',
    )
    const sig = String(req.headers.signature).replace(/:(.)/, (_m, c: string) => `:${c === 'A' ? 'B' : 'A'}`)
    expect(await codeOf({ ...req, headers: { ...req.headers, signature: sig } })).toBe('SIGNATURE_INVALID')
  })

  it('a query added to a request signed without one → SIGNATURE_INVALID', async () => {
    const req = signed(request({ path: '/v1/run' }), {
      components: ['@method', '@authority', '@path', 'content-digest', 'content-type'],
    })
    expect(await codeOf(req)).toBe('OK')
    expect(await codeOf({ ...req, path: '/v1/run?admin=1' })).toBe('SIGNATURE_INVALID')
  })

  it('a Content-Type added to a request signed without one → SIGNATURE_INVALID, naming content-type', async () => {
    const req = signed(request({ headers: { host: '127.0.0.1:3001' }, body: 'a=1&admin=true' }))
    expect(String(req.headers['signature-input'])).not.toContain('content-type')
    expect(await codeOf(req)).toBe('OK')
    const added = { ...req, headers: { ...req.headers, 'content-type': 'application/x-www-form-urlencoded' } }
    const verdict = await verifyRequestSignature(added, options())
    expect(verdict).toMatchObject({
      ok: false,
      error: { code: 'SIGNATURE_INVALID', details: { missing: ['content-type'] } },
    })
  })

  it('a signature missing a required component → SIGNATURE_INVALID', async () => {
    const req = signed(request(), { components: ['@method', '@path', '@query', 'content-digest'] })
    expect(await codeOf(req)).toBe('SIGNATURE_INVALID')
  })

  it('expired, too old and created in the future → CLOCK_SKEW (skew tolerated)', async () => {
    const req = signed()
    expect(await codeOf(req, options({ now: NOW + 60_000 + 30_000 }))).toBe('OK')
    expect(await codeOf(req, options({ now: NOW + 60_000 + 30_001 }))).toBe('CLOCK_SKEW')
    expect(await codeOf(req, options({ now: NOW + 61_000, maxSkewMs: 0 }))).toBe('CLOCK_SKEW')
    expect(await codeOf(req, options({ now: NOW - 30_000 }))).toBe('OK')
    expect(await codeOf(req, options({ now: NOW - 31_000 }))).toBe('CLOCK_SKEW')
    const long = signed(request(), { lifetimeMs: 3_600_000 })
    expect(await codeOf(long, options({ now: NOW + 10 * 60_000 }))).toBe('CLOCK_SKEW')
  })

  it('a replayed nonce → REPLAY; the nonce is spent only by a request that verified', async () => {
    const cache = new NonceCache()
    const opts = options({ seenNonce: cache.seen })
    const req = signed()
    expect(await codeOf({ ...req, method: 'DELETE' }, opts)).toBe('SIGNATURE_INVALID')
    expect(cache.size).toBe(0)
    expect(await codeOf(req, opts)).toBe('OK')
    expect(await codeOf(req, opts)).toBe('REPLAY')
    expect(await codeOf(signed(request(), { nonce: toB64(new Uint8Array(16).fill(8)) }), opts)).toBe('OK')
  })

  it('wrong key → SIGNATURE_INVALID; unknown signer → UNKNOWN_SIGNER', async () => {
    const other = generateKeyPair()
    expect(await codeOf(signed(), options({ resolveKey: () => other.publicKey }))).toBe('SIGNATURE_INVALID')
    expect(await codeOf(signed(), options({ resolveKey: () => undefined }))).toBe('UNKNOWN_SIGNER')
    expect(await codeOf(signed(), options({ resolveKey: () => Promise.resolve(key.publicKey) }))).toBe('OK')
  })

  it('missing or malformed headers and parameters → MALFORMED', async () => {
    const req = signed()
    const without = (name: string): HttpRequestLike => ({
      ...req,
      headers: Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== name)),
    })
    const withInput = (input: string): HttpRequestLike => ({
      ...req,
      headers: { ...req.headers, 'signature-input': input },
    })
    const input = String(req.headers['signature-input'])
    expect(await codeOf(without('signature'))).toBe('MALFORMED')
    expect(await codeOf(without('signature-input'))).toBe('MALFORMED')
    expect(await codeOf(withInput('meshsig=(((('))).toBe('MALFORMED')
    expect(await codeOf(withInput(input.replace('alg="ed25519"', 'alg="rsa-pss-sha512"')))).toBe('MALFORMED')
    expect(await codeOf(withInput(input.replace(/;nonce="[^"]*"/, '')))).toBe('MALFORMED')
    expect(await codeOf(withInput(input.replace('tag="meshsig"', 'tag="other"')))).toBe('MALFORMED')
    expect(await codeOf(withInput(input.replace('created=1750000000', 'created="soon"')))).toBe('MALFORMED')
    expect(await codeOf(withInput(input.replace('"@method"', '"@method";req')))).toBe('MALFORMED')
    expect(await codeOf(withInput(input.replace('"@query"', '"@query" "@scheme"')))).toBe('MALFORMED')
    expect(await codeOf(withInput(`${input}, again=${input.slice('meshsig='.length)}`))).toBe('MALFORMED')
  })

  it('header names match case-insensitively and repeated fields are joined', async () => {
    const req = signed(request({ headers: { Host: 'h', 'Content-Type': 'application/json' } }))
    const upper = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toUpperCase(), v]))
    expect(await codeOf({ ...req, headers: upper })).toBe('OK')
    const multi = signed(request({ headers: { 'x-a': ['1 ', ' 2'] } }), {
      components: ['@method', '@authority', '@path', '@query', 'content-digest', 'x-a'],
    })
    expect(await codeOf({ ...multi, headers: { ...multi.headers, 'x-a': '1, 2' } })).toBe('OK')
  })
})

describe('NonceCache', () => {
  const sighting = (nonce: string, now: number, keepUntil = now + 100) => ({ keyid: 'k', nonce, keepUntil, now })

  it('remembers a nonce until its keepUntil, then forgets it', () => {
    const cache = new NonceCache(3)
    expect(cache.seen(sighting('a', 0))).toBe(false)
    expect(cache.seen(sighting('a', 50))).toBe(true)
    expect(cache.seen(sighting('a', 101))).toBe(false)
    expect(cache.size).toBe(1)
  })

  it('full of nonces that may still verify, it refuses (RATE_LIMITED) rather than forget one: a replay stays a replay', () => {
    const cache = new NonceCache(2)
    expect(cache.seen(sighting('a', 0, 90_000))).toBe(false)
    expect(cache.seen(sighting('b', 0, 90_000))).toBe(false)
    expect(() => cache.seen(sighting('c', 1, 90_000))).toThrow(
      expect.objectContaining({
        code: 'RATE_LIMITED',
        message: expect.stringMatching(/holds 2 nonces that may still verify/),
      }),
    )
    expect(cache.seen(sighting('a', 2, 90_000))).toBe(true)
    expect(cache.size).toBe(2)
  })

  it('makes room as nonces expire, in whatever order they were seen', () => {
    const cache = new NonceCache(2)
    cache.seen(sighting('long', 0, 1000))
    cache.seen(sighting('short', 0, 100))
    expect(cache.seen(sighting('c', 150))).toBe(false) // 'short' expired behind 'long'
    expect(cache.seen(sighting('long', 160))).toBe(true)
    expect(cache.size).toBe(2)
  })

  // a review: whenever the soonest expiry had passed, a request walked every entry; at the bound, under a steady
  // flow, that was every request (100,000 entries walked to free about one)
  it('at its bound under a steady flow, frees each expired nonce without walking the cache', () => {
    const max = 10_000
    const cache = new NonceCache(max)
    let now = 0
    for (let i = 0; i < max; i++) cache.seen({ keyid: 'k', nonce: `n${i}`, keepUntil: ++now + max - 1, now })
    const entries = (cache as unknown as { entries: Map<string, number> }).entries
    let walks = 0
    const iterate = Map.prototype[Symbol.iterator]
    Object.defineProperty(entries, Symbol.iterator, {
      value(this: Map<string, number>) {
        walks++
        return iterate.call(this)
      },
    })
    for (let i = max; i < max + 1000; i++) {
      now++
      // one nonce expires each ms: the next one always finds its place
      expect(cache.seen({ keyid: 'k', nonce: `n${i}`, keepUntil: now + max - 1, now })).toBe(false)
    }
    expect(cache.size).toBe(max)
    expect(walks).toBe(0)
  })

  it('verifyRequestSignature answers RATE_LIMITED when the cache refuses', async () => {
    const cache = new NonceCache(1)
    const opts = options({ seenNonce: cache.seen })
    expect(await codeOf(signed(), opts)).toBe('OK')
    expect(await codeOf(signed(request(), { nonce: toB64(new Uint8Array(16).fill(9)) }), opts)).toBe('RATE_LIMITED')
    expect(await codeOf(signed(), opts)).toBe('REPLAY')
  })
})
