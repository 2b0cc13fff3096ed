// A2A agent cards (docs/interop.md §2) served over real HTTP and checked by independent parties:
// the @a2a-js/sdk accepts each card (its schema round trip leaves the signed JCS text unchanged)
// and verifies its JWS with keys from the node's GET /keys/:did; node:crypto verifies the same JWS
// over the SDK's canonical form. A rotated agent's card verifies under the new key only; a
// revoked agent has no card; no plain signer signs a JWS signing input.
import { createPublicKey, verify as edVerify } from 'node:crypto'
import { AgentCard, canonicalizeAgentCard, verifyAgentCardSignature } from '@a2a-js/sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sign as sdkSign } from '../../node/index.js'
import { agentCardPayload, generateKeyPair, verifyAgentCard, type A2aAgentCard } from '../../node/core/index.js'
import { startApi, type ApiFixture } from '../api/api-fixture.js'

let fx: ApiFixture
let did = ''
const ENDPOINT = 'https://agents.example.com/a2a/alice'

async function card(path: string): Promise<{ status: number; card: A2aAgentCard }> {
  const res = await fetch(fx.url + path)
  return { status: res.status, card: (await res.json()) as A2aAgentCard }
}

/** The DID's current key as the node tells it (GET /keys/:did), as a JWK; throws when revoked. */
async function currentJwk(kid: string): Promise<{ kty: string; crv: string; x: string }> {
  const d = kid.slice(0, kid.indexOf('#'))
  const view = (await (await fetch(`${fx.url}/keys/${encodeURIComponent(d)}`)).json()) as {
    publicKey: string
    revoked: boolean
  }
  if (view.revoked) throw new Error('revoked')
  return { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(view.publicKey, 'base64').toString('base64url') }
}

/** node:crypto over the SDK's canonical form: ASCII protected "." base64url(JCS(card without signatures)). */
async function cryptoVerify(c: A2aAgentCard): Promise<boolean> {
  const sig = c.signatures![0]!
  const kid = (JSON.parse(Buffer.from(sig.protected, 'base64url').toString()) as { kid: string }).kid
  const key = createPublicKey({ key: await currentJwk(kid), format: 'jwk' })
  const payload = Buffer.from(canonicalizeAgentCard(AgentCard.fromJSON(c))).toString('base64url')
  return edVerify(null, Buffer.from(`${sig.protected}.${payload}`), key, Buffer.from(sig.signature, 'base64url'))
}

const sdkVerify = verifyAgentCardSignature((kid) => currentJwk(kid))

async function meshsigVerify(c: A2aAgentCard): Promise<string> {
  const verdict = await verifyAgentCard(c, async (d) => {
    const jwk = await currentJwk(`${d}#`).catch(() => undefined)
    return jwk === undefined
      ? { publicKey: null, revoked: true }
      : { publicKey: Buffer.from(jwk.x, 'base64url'), revoked: false }
  })
  return verdict.ok ? 'ok' : verdict.error.code
}

beforeAll(async () => {
  fx = await startApi()
  const reg = await fx.call('POST', '/agents/register', {
    name: 'alice',
    capabilities: [{ type: 'summarise', confidence: 0.9 }, { type: 'translate' }],
  })
  did = (reg.body as { identity: { did: string } }).identity.did
  fx.node.interop.configureA2a({ publicUrl: 'https://agents.example.com', endpoints: new Map([[did, ENDPOINT]]) })
})

afterAll(async () => {
  await fx?.stop()
})

describe('A2A agent cards', () => {
  it('an agent card: name, skills from capabilities, the endpoint; the SDK accepts and verifies it', async () => {
    const { status, card: c } = await card(`/agents/${did}/agent-card.json`)
    expect(status).toBe(200)
    expect(c.name).toBe('alice')
    expect(c.skills?.map((s) => s.id)).toEqual(['summarise', 'translate'])
    expect(c.supportedInterfaces?.[0]?.url).toBe(ENDPOINT)
    const parsed = AgentCard.fromJSON(c)
    expect(parsed.name).toBe('alice')
    expect(canonicalizeAgentCard(parsed)).toBe(agentCardPayload(c)) // the SDK signs and checks the same bytes
    await expect(sdkVerify(parsed)).resolves.toBeUndefined()
    expect(await cryptoVerify(c)).toBe(true)
    const header = JSON.parse(Buffer.from(c.signatures![0]!.protected, 'base64url').toString()) as Record<
      string,
      string
    >
    expect(header.alg).toBe('EdDSA')
    expect(header.kid!.startsWith(`${did}#`)).toBe(true)
  })

  it('a card with a changed field fails every verifier', async () => {
    const { card: c } = await card(`/agents/${did}/agent-card.json`)
    const forged = { ...c, supportedInterfaces: [{ ...c.supportedInterfaces![0]!, url: 'https://evil.example/a2a' }] }
    await expect(sdkVerify(AgentCard.fromJSON(forged))).rejects.toThrow()
    expect(await cryptoVerify(forged)).toBe(false)
    expect(await meshsigVerify(forged)).toBe('SIGNATURE_INVALID')
  })

  it('the node card at /.well-known/agent-card.json verifies under the node key', async () => {
    const { status, card: c } = await card('/.well-known/agent-card.json')
    expect(status).toBe(200)
    expect(c.skills?.map((s) => s.id).sort()).toEqual(['summarise', 'translate'])
    await expect(sdkVerify(AgentCard.fromJSON(c))).resolves.toBeUndefined()
    expect(await meshsigVerify(c)).toBe('ok')
  })

  it('a rotated agent: its new card verifies under the new key, the old card no longer does', async () => {
    const old = (await card(`/agents/${did}/agent-card.json`)).card
    expect((await fx.call('POST', '/agents/rotate-key', { did })).status).toBe(200)
    const fresh = (await card(`/agents/${did}/agent-card.json`)).card
    await expect(sdkVerify(AgentCard.fromJSON(fresh))).resolves.toBeUndefined()
    expect(await cryptoVerify(fresh)).toBe(true)
    expect(await meshsigVerify(fresh)).toBe('ok')
    await expect(sdkVerify(AgentCard.fromJSON(old))).rejects.toThrow()
    expect(await cryptoVerify(old)).toBe(false)
    expect(await meshsigVerify(old)).toBe('ROTATED_KEY')
  })

  it('a revoked agent has no card, and its old card is refused', async () => {
    const old = (await card(`/agents/${did}/agent-card.json`)).card
    expect((await fx.call('POST', '/agents/revoke', { did, reason: 'test' })).status).toBe(200)
    const res = await fetch(`${fx.url}/agents/${did}/agent-card.json`)
    expect(res.status).toBe(403)
    expect(((await res.json()) as { code: string }).code).toBe('REVOKED')
    expect(await meshsigVerify(old)).toBe('REVOKED')
    expect((await fetch(`${fx.url}/agents/not-a-did/agent-card.json`)).status).toBe(400)
  })

  it('no plain signer signs a JWS signing input (it would be a card signature)', async () => {
    const { card: c } = await card('/.well-known/agent-card.json')
    const input = `${c.signatures![0]!.protected}.${Buffer.from(agentCardPayload(c)).toString('base64url')}`
    const key = generateKeyPair()
    const signing = Promise.resolve().then(() => sdkSign(input, Buffer.from(key.seed).toString('base64')))
    await expect(signing).rejects.toThrow(/JWS signing input/)
  })
})
