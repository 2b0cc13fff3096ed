/**
 * The node proves it holds the API token before a client sends it
 * (api/token-proof.ts): its `/health` answers a challenge with an HMAC under
 * the token of the challenge and of the address and port the request
 * reached, and the SDK client with `proveToken` sends the token only then.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MeshsigClient } from '../../api/client.js'
import {
  endpointOf,
  newChallenge,
  proofKeyOf,
  proofMatches,
  TOKEN_CHALLENGE_HEADER,
  TOKEN_PROOF_HEADER,
} from '../../api/token-proof.js'
import { startApi, type ApiFixture } from './api-fixture.js'

describe('the token proof of a real node', () => {
  let fx: ApiFixture
  beforeAll(async () => {
    fx = await startApi()
  })
  afterAll(() => fx.stop())

  it('/health answers a challenge with the proof for the address and port it was reached at, and only then', async () => {
    const url = new URL(fx.url)
    const challenge = newChallenge()
    const res = await fetch(`${fx.url}/health`, { headers: { [TOKEN_CHALLENGE_HEADER]: challenge } })
    const proof = res.headers.get(TOKEN_PROOF_HEADER)
    const { proofKey } = proofKeyOf(fx.token)
    expect(proofMatches(proof, proofKey, endpointOf(url.hostname, Number(url.port)), challenge)).toBe(true)
    // not for another port, another challenge or another token
    expect(proofMatches(proof, proofKey, endpointOf(url.hostname, Number(url.port) + 1), challenge)).toBe(false)
    expect(proofMatches(proof, proofKey, endpointOf(url.hostname, Number(url.port)), newChallenge())).toBe(false)
    const another = proofKeyOf('another-token-of-32-characters!!').proofKey
    expect(proofMatches(proof, another, endpointOf(url.hostname, Number(url.port)), challenge)).toBe(false)
    const bad = await fetch(`${fx.url}/health`, { headers: { [TOKEN_CHALLENGE_HEADER]: 'short' } })
    expect(bad.headers.get(TOKEN_PROOF_HEADER)).toBeNull()
    expect((await fetch(`${fx.url}/health`)).headers.get(TOKEN_PROOF_HEADER)).toBeNull()
  })

  it('a client with proveToken acts as the operator with the token the node proved it holds', async () => {
    const client = new MeshsigClient({
      server: fx.url.replace('127.0.0.1', 'localhost'),
      token: fx.token,
      proveToken: true,
    })
    expect(client.server).toBe(fx.url)
    const reg = await client.register({ name: 'proved' })
    const sent = await client.send({ fromDid: reg.identity.did, toDid: null, message: 'as the operator' })
    expect(sent.envelope).toMatchObject({ from: reg.identity.did, body: 'as the operator' })
  })
})
