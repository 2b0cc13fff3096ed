// Discovery answered with A2A agent cards (docs/api.md POST /discover and /discover/network,
// docs/interop.md §2): with "format": "a2a" the answer carries the signed cards of the agents found
// that this node hosts and holds the key of; @a2a-js/sdk accepts each card and verifies its JWS with
// the key the node publishes (GET /keys/:did). An agent with its own key (the node cannot sign its
// card) is found but has no card; without the option there are no cards; another format is refused.
import { AgentCard, verifyAgentCardSignature } from '@a2a-js/sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createInception, createRegistration, generateKeyPair, toB64 } from '../../node/core/index.js'
import { expectNo500, startApi, type ApiFixture } from '../api/api-fixture.js'

let fx: ApiFixture
let hosted = ''
let ownKey = ''

/** The DID's current key as the node tells it, as a JWK; throws when revoked. */
async function currentJwk(kid: string): Promise<{ kty: string; crv: string; x: string }> {
  const did = kid.slice(0, kid.indexOf('#'))
  const view = (await (await fetch(`${fx.url}/keys/${encodeURIComponent(did)}`)).json()) as {
    publicKey: string
    revoked: boolean
  }
  if (view.revoked) throw new Error('revoked')
  return { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(view.publicKey, 'base64').toString('base64url') }
}
const sdkVerify = verifyAgentCardSignature((kid) => currentJwk(kid))

/** The DID a card's signature names (`kid` = did:msig:…#thumbprint). */
function signerOf(card: { signatures?: { protected: string }[] }): string {
  const header = JSON.parse(Buffer.from(card.signatures![0]!.protected, 'base64url').toString()) as { kid: string }
  return header.kid.slice(0, header.kid.indexOf('#'))
}

beforeAll(async () => {
  fx = await startApi()
  const reg = await fx.call('POST', '/agents/register', { name: 'alice', capabilities: [{ type: 'summarise' }] })
  hosted = (reg.body as { identity: { did: string } }).identity.did
  // an agent with its own key: the node hosts its registration but cannot sign its card
  const health = (await fx.call('GET', '/health')).body as { did: string; peerId: string }
  const key = generateKeyPair()
  const icp = createInception(key, Date.now(), generateKeyPair())
  const capabilities = [{ type: 'summarise' }]
  const proof = {
    icp,
    reg: createRegistration(
      { did: icp.did, name: 'bob', capabilities, controller: health.did, peerId: health.peerId, ts: Date.now() },
      key,
    ),
  }
  const own = await fx.call('POST', '/agents/register', {
    name: 'bob',
    capabilities,
    publicKey: toB64(key.publicKey),
    proof,
  })
  expect(own.status).toBe(201)
  ownKey = icp.did
})

afterAll(async () => {
  expectNo500(fx)
  await fx?.stop()
})

describe('discovery with A2A cards', () => {
  it('POST /discover {"format":"a2a"}: both agents found, a card for the hosted one that the SDK verifies', async () => {
    const res = await fx.call('POST', '/discover', { capability: 'summarise', format: 'a2a' })
    expect(res.status).toBe(200)
    const body = res.body as { agents: { did: string }[]; cards: { name: string }[] }
    expect(body.agents.map((a) => a.did).sort()).toEqual([hosted, ownKey].sort())
    expect(body.cards.map((c) => c.name)).toEqual(['alice'])
    const card = AgentCard.fromJSON(body.cards[0])
    expect(card.skills.map((s) => s.id)).toEqual(['summarise'])
    await expect(sdkVerify(card)).resolves.toBeUndefined()
    expect(signerOf(body.cards[0] as never)).toBe(hosted)
  })

  it('POST /discover/network {"format":"a2a"} (operator): the local hosted agent has its verified card', async () => {
    const res = await fx.call('POST', '/discover/network', { capability: 'summarise', format: 'a2a' })
    expect(res.status).toBe(200)
    const body = res.body as { local: { did: string }[]; cards: { name: string }[] }
    expect(body.local.map((a) => a.did)).toContain(hosted)
    expect(body.cards.map((c) => c.name)).toEqual(['alice'])
    await expect(sdkVerify(AgentCard.fromJSON(body.cards[0]))).resolves.toBeUndefined()
  })

  it('no cards without the option; a forged card fails the SDK; another format is refused', async () => {
    const plain = await fx.call('POST', '/discover', { capability: 'summarise' })
    expect(plain.status).toBe(200)
    expect(plain.body).not.toHaveProperty('cards')
    const { cards } = (await fx.call('POST', '/discover', { format: 'a2a' })).body as { cards: { name: string }[] }
    const forged = { ...cards[0]!, name: 'mallory' }
    await expect(sdkVerify(AgentCard.fromJSON(forged))).rejects.toThrow()
    const bad = await fx.call('POST', '/discover', { capability: 'summarise', format: 'jsonld' })
    expect(bad.status).toBe(400)
    expect((bad.body as { code: string }).code).toBe('INVALID_INPUT')
  })
})
