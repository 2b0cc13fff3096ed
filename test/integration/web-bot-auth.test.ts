// Web Bot Auth from the signing proxy (docs/interop.md §1), checked by independent verifiers:
// Cloudflare's `web-bot-auth` package verifies the proxy's signature with keys it finds in the
// key directory the node serves over real HTTP; the directory's own response signatures and the
// request digests are checked with node:crypto; in the mode that sends both signatures, the
// meshsig one verifies with the SDK and the WBA one with Cloudflare's verifier, fed that member alone.
import { createHash, createPublicKey, verify as edVerify } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { parseDictionary, serializeDictionary, serializeItem, type Item } from 'structured-headers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verify as wbaVerify } from 'web-bot-auth'
import { verifierFromJWK } from 'web-bot-auth/crypto'
import { NonceCache, verifyRequestSignature } from '../../node/index.js'
import { startNodeProxy, type NodeProxy } from '../../node/proxy/index.js'
import { startApi, type ApiFixture } from '../api/api-fixture.js'

interface Seen {
  readonly method: string
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly body: Buffer
}

const ORIGIN = 'https://agents.example.com'
let fx: ApiFixture
let gateway: Server
let gatewayPort = 0
const seen: Seen[] = []
const proxies: NodeProxy[] = []
let agentDid = ''

async function startGateway(): Promise<void> {
  gateway = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) })
      res.end('ok')
    })
  })
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve))
  gatewayPort = (gateway.address() as AddressInfo).port
}

async function proxyFor(wba: { keepMeshsig?: boolean; memberKey?: boolean }, clock?: () => number): Promise<NodeProxy> {
  const proxy = await startNodeProxy(
    fx.node,
    { listenPort: 0, targetHost: '127.0.0.1', targetPort: gatewayPort },
    {
      agents: [{ did: agentDid, port: 0, uid: 1001 }],
      checkRedirect: () => Promise.resolve({ uid: 1001 }), // the kernel check: test/e2e/proxy-netns.test.ts
      webBotAuth: { agentOrigin: ORIGIN, ...wba },
      ...(clock ? { clock } : {}),
    },
  )
  proxies.push(proxy)
  return proxy
}

/** Send through the agent's listener; returns what the gateway received. */
async function send(proxy: NodeProxy, path: string, body: string): Promise<Seen> {
  const port = proxy.agentPorts.get(agentDid)!
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', body })
  expect(res.status).toBe(200)
  return seen.at(-1)!
}

interface Directory {
  keys: { kty: string; crv: string; x: string; kid: string; use: string; nbf: number; exp: number }[]
}

async function directory(): Promise<{ res: Response; text: string; json: Directory }> {
  const res = await fetch(fx.url + '/.well-known/http-message-signatures-directory')
  const text = await res.text()
  return { res, text, json: JSON.parse(text) as Directory }
}

/** Cloudflare's verifier, keys from the node's directory; plus the RFC 9530 digest of the body (node:crypto). */
async function independentVerify(
  s: Seen,
  overrides: { url?: string; body?: Buffer; headers?: IncomingHttpHeaders } = {},
): Promise<void> {
  const body = overrides.body ?? s.body
  const digest = `sha-256=:${createHash('sha256').update(body).digest('base64')}:`
  // Cloudflare's verifier does not compare Content-Digest with the body: the gateway must (docs/interop.md §1)
  if (String(s.headers['content-digest']) !== digest) throw new Error('content-digest does not match the body')
  const keys = (await directory()).json.keys
  const headers = new Headers()
  for (const [k, v] of Object.entries({ ...s.headers, ...overrides.headers })) {
    if (v !== undefined) headers.set(k, String(v))
  }
  const request = new Request(`http://127.0.0.1:${gatewayPort}${overrides.url ?? s.url}`, {
    method: s.method,
    headers,
    body,
  })
  await wbaVerify(request, async (data, signature, params) => {
    const jwk = keys.find((k) => k.kid === params.keyid)
    if (jwk === undefined) throw new Error('unknown key')
    await (
      await verifierFromJWK(jwk)
    )(data, signature, params)
  })
}

beforeAll(async () => {
  fx = await startApi()
  await startGateway()
  const reg = await fx.call('POST', '/agents/register', { name: 'crawler', capabilities: [{ type: 'fetch' }] })
  agentDid = (reg.body as { identity: { did: string } }).identity.did
})

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()))
  await new Promise((resolve) => gateway?.close(resolve))
  await fx?.stop()
})

describe('WBA signature alone', () => {
  let proxy: NodeProxy
  let got: Seen
  beforeAll(async () => {
    proxy = await proxyFor({})
    got = await send(proxy, '/v1/fetch?page=2', JSON.stringify({ q: 'weather' }))
  })

  it('carries one web-bot-auth signature with Signature-Agent, and Cloudflare verifies it', async () => {
    expect(String(got.headers['signature-agent'])).toBe(`sig1="${ORIGIN}"`)
    expect([...parseDictionary(String(got.headers['signature-input'])).keys()]).toEqual(['sig1'])
    expect(String(got.headers['signature-input'])).toMatch(/"content-digest" "content-type" "signature-agent"\);/)
    expect(String(got.headers['signature-input'])).toMatch(/tag="web-bot-auth"/)
    await expect(independentVerify(got)).resolves.toBeUndefined()
  })

  // attack review 93 (F4): the WBA signature did not cover Content-Type, which docs/proxy.md requires whenever the
  // request has one (a gateway would read the bytes the digest covers as another type)
  it('a changed Content-Type fails', async () => {
    expect(got.headers['content-type']).toBe('text/plain;charset=UTF-8') // fetch's, for a string body
    const form = { 'content-type': 'application/x-www-form-urlencoded' }
    await expect(independentVerify(got, { headers: form })).rejects.toThrow() // before the fix: it verified
  })

  it('a tampered body or a changed path fails', async () => {
    await expect(independentVerify(got, { body: Buffer.from('{"q":"stocks"}') })).rejects.toThrow(/content-digest/)
    await expect(independentVerify(got, { url: '/v1/admin?page=2' })).rejects.toThrow()
    // an unknown key: see the revocation below (the directory no longer lists it)
  })

  it('an expired signature fails', async () => {
    const past = await proxyFor({}, () => Date.now() - 10 * 60_000)
    const old = await send(past, '/v1/fetch', 'x')
    await expect(independentVerify(old)).rejects.toThrow(/expired/)
  })
})

describe('key directory', () => {
  it('is a signed JWKS of the proxy keys: current and committed next, kid = RFC 7638 thumbprint', async () => {
    const { res, text, json } = await directory()
    expect(res.headers.get('content-type')).toBe('application/http-message-signatures-directory+json')
    expect(json.keys.length).toBe(2)
    for (const k of json.keys) {
      expect(Object.keys(k).sort()).toEqual(['crv', 'exp', 'kid', 'kty', 'nbf', 'use', 'x'])
      const canonical = JSON.stringify({ crv: k.crv, kty: k.kty, x: k.x })
      expect(k.kid).toBe(createHash('sha256').update(canonical).digest('base64url'))
      expect(k.exp).toBeGreaterThan(k.nbf)
    }
    // the response signature (draft appendix: "@authority";req and content-digest), checked by hand
    const digest = `sha-256=:${createHash('sha256').update(text).digest('base64')}:`
    expect(res.headers.get('content-digest')).toBe(digest)
    const inputs = parseDictionary(res.headers.get('signature-input')!)
    const sigs = parseDictionary(res.headers.get('signature')!)
    expect(inputs.size).toBe(1) // one current key signs
    const inputText = res.headers.get('signature-input')!.replace(/^binding=/, '')
    const host = new URL(fx.url).host
    const base = `"@authority";req: ${host}\n"content-digest": ${digest}\n"@signature-params": ${inputText}`
    const keyid = inputs.get('binding')![1].get('keyid')
    const jwk = json.keys.find((k) => k.kid === keyid)!
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' })
    const sig = Buffer.from(sigs.get('binding')![0] as ArrayBuffer)
    expect(edVerify(null, Buffer.from(base), key, sig)).toBe(true)
    expect(inputs.get('binding')![1].get('tag')).toBe('http-message-signatures-directory')
  })

  it('rotation publishes the new key before the old one leaves; a revoked DID leaves at once', async () => {
    const before = (await directory()).json.keys.map((k) => k.kid)
    const rot = await fx.call('POST', '/agents/rotate-key', { did: agentDid })
    expect(rot.status).toBe(200)
    const after = (await directory()).json.keys.map((k) => k.kid)
    const proxy = proxies[0]!
    const signed = await send(proxy, '/after-rotation', 'y')
    const keyid = parseDictionary(String(signed.headers['signature-input'])).get('sig1')![1].get('keyid')
    expect(before).toContain(keyid) // the key that signs now was listed before the rotation
    expect(after).toContain(keyid)
    expect(after).not.toContain(before.find((k) => k !== keyid)) // the rotated-out key is gone
    await expect(independentVerify(signed)).resolves.toBeUndefined()
    const rev = await fx.call('POST', '/agents/revoke', { did: agentDid, reason: 'test' })
    expect(rev.status).toBe(200)
    expect((await directory()).json.keys).toEqual([])
    await expect(independentVerify(signed)).rejects.toThrow(/unknown key/)
  })
})

describe('both signatures', () => {
  it('the meshsig one verifies with the SDK, the WBA one with Cloudflare (that member alone)', async () => {
    const reg = await fx.call('POST', '/agents/register', { name: 'both' })
    agentDid = (reg.body as { identity: { did: string } }).identity.did
    const proxy = await proxyFor({ keepMeshsig: true })
    const got = await send(proxy, '/both?x=1', 'payload')
    const inputs = parseDictionary(String(got.headers['signature-input']))
    expect([...inputs.keys()].sort()).toEqual(['meshsig', 'sig1'])
    const verdict = await verifyRequestSignature(
      {
        method: got.method,
        authority: `127.0.0.1:${gatewayPort}`,
        path: got.url,
        headers: got.headers,
        body: got.body,
      },
      {
        now: Date.now(),
        resolveKey: (did) => fx.node.signerKey(did).publicKey ?? undefined,
        seenNonce: new NonceCache().seen,
      },
    )
    expect(verdict.ok && verdict.signature.keyid).toBe(agentDid)
    const only = (name: string): string => {
      const dict = parseDictionary(String(got.headers[name]))
      return serializeDictionary(new Map([['sig1', dict.get('sig1') as Item]]))
    }
    const wbaOnly: Seen = {
      ...got,
      headers: { ...got.headers, 'signature-input': only('signature-input'), signature: only('signature') },
    }
    await expect(independentVerify(wbaOnly)).resolves.toBeUndefined()
    await expect(independentVerify(got)).rejects.toThrow(/Multiple signatures/)
  })
})

describe('Signature-Agent member form', () => {
  it('covers "signature-agent";key="sig1" as the draft writes it: the base rebuilt by hand verifies', async () => {
    const proxy = await proxyFor({ memberKey: true })
    const got = await send(proxy, '/member?a=b', 'z')
    const input = parseDictionary(String(got.headers['signature-input'])).get('sig1')!
    const agent = parseDictionary(String(got.headers['signature-agent']))
    const url = new URL(`http://127.0.0.1:${gatewayPort}${got.url}`)
    const lines = (input[0] as Item[]).map(([name, params]) => {
      const key = params.get('key')
      const value =
        name === '@authority'
          ? url.host
          : name === '@method'
            ? got.method
            : name === '@path'
              ? url.pathname
              : name === '@query'
                ? url.search
                : key !== undefined
                  ? serializeItem(agent.get(String(key)) as Item)
                  : String(got.headers[String(name)])
      return `${serializeItem([name, params] as Item)}: ${value}`
    })
    expect(lines.at(-1)).toBe(`"signature-agent";key="sig1": "${ORIGIN}"`)
    const inputText = String(got.headers['signature-input']).replace(/^sig1=/, '')
    const base = [...lines, `"@signature-params": ${inputText}`].join('\n')
    const keyid = input[1].get('keyid')
    const jwk = (await directory()).json.keys.find((k) => k.kid === keyid)!
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' })
    const sig = Buffer.from(parseDictionary(String(got.headers.signature)).get('sig1')![0] as ArrayBuffer)
    expect(edVerify(null, Buffer.from(base), key, sig)).toBe(true)
    expect(edVerify(null, Buffer.from(base.replace('/member', '/other')), key, sig)).toBe(false)
  })
})
