/**
 * An agent credential goes only to a node that proves it holds it
 * (api/token-proof.ts, docs/api.md "The token goes only to its node"): the
 * node keeps only the credential's SHA-256, and its `/health` answers a
 * challenge naming the credential (the first 16 hex digits of that hash) with
 * an HMAC under the whole hash. The attacker: another local user listening
 * on the node's port while it is down, or relaying the challenge to it.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MeshsigClient } from '../../api/client.js'
import {
  CREDENTIAL_ID_HEADER,
  endpointOf,
  newChallenge,
  proofKeyOf,
  proofMatches,
  TOKEN_CHALLENGE_HEADER,
  TOKEN_PROOF_HEADER,
} from '../../api/token-proof.js'
import { startApi, type ApiFixture } from './api-fixture.js'

/** `/health` with a challenge naming `credentialId`: the proof header, if any. */
async function proofFor(url: string, challenge: string, credentialId?: string): Promise<string | null> {
  const headers: Record<string, string> = { [TOKEN_CHALLENGE_HEADER]: challenge }
  if (credentialId !== undefined) headers[CREDENTIAL_ID_HEADER] = credentialId
  return (await fetch(`${url}/health`, { headers })).headers.get(TOKEN_PROOF_HEADER)
}

describe('the credential proof of a real node', () => {
  let fx: ApiFixture
  let endpoint = ''
  beforeAll(async () => {
    fx = await startApi()
    const url = new URL(fx.url)
    endpoint = endpointOf(url.hostname, Number(url.port))
  })
  afterAll(() => fx.stop())

  async function register(name: string): Promise<{ did: string; credential: string }> {
    const r = await fx.call('POST', '/agents/register', { name })
    expect(r.status).toBe(201)
    return { did: r.body.identity.did, credential: r.body.identity.credential }
  }

  it("answers a challenge naming a live credential with the HMAC under that credential's hash, and nothing else", async () => {
    const { credential } = await register('proved-agent')
    const { proofKey, credentialId } = proofKeyOf(credential)
    expect(credentialId).toMatch(/^[0-9a-f]{16}$/)
    const challenge = newChallenge()
    const proof = await proofFor(fx.url, challenge, credentialId)
    expect(proofMatches(proof, proofKey, endpoint, challenge)).toBe(true)
    // not the operator token's proof, nor one for another endpoint or challenge
    expect(proofMatches(proof, proofKeyOf(fx.token).proofKey, endpoint, challenge)).toBe(false)
    expect(proofMatches(proof, proofKey, endpointOf('127.0.0.1', 1), challenge)).toBe(false)
    expect(proofMatches(proof, proofKey, endpoint, newChallenge())).toBe(false)
  })

  it('an unknown, malformed or upper-case credential id gets no proof at all (not the token proof either)', async () => {
    const { credential } = await register('named-wrong')
    const id = proofKeyOf(credential).credentialId!
    for (const wrong of ['0123456789abcdef', id.toUpperCase(), id.slice(0, 15), `${id}0`, 'zzzzzzzzzzzzzzzz']) {
      if (wrong === id) continue
      expect(await proofFor(fx.url, newChallenge(), wrong)).toBeNull()
    }
  })

  it("a revoked agent's credential is proven no more", async () => {
    const { did, credential } = await register('to-revoke')
    const id = proofKeyOf(credential).credentialId!
    expect(await proofFor(fx.url, newChallenge(), id)).not.toBeNull()
    expect((await fx.call('POST', '/agents/revoke', { did, reason: 'test' })).status).toBe(200)
    expect(await proofFor(fx.url, newChallenge(), id)).toBeNull()
  })

  it('a client with proveToken and a credential acts as its agent at the node that proved it', async () => {
    const alice = await register('alice-proved')
    const bob = await register('bob-proved')
    const client = new MeshsigClient({
      server: fx.url.replace('127.0.0.1', 'localhost'),
      token: alice.credential,
      proveToken: true,
    })
    const sent = await client.send({ fromDid: alice.did, toDid: bob.did, message: 'as alice' })
    expect(sent.envelope).toMatchObject({ from: alice.did, to: bob.did, body: 'as alice' })
  })

  describe('an impostor at the address the client was given', () => {
    const servers: Server[] = []
    const authorizations: Array<string | undefined> = []
    afterAll(async () => {
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
    })

    /** A fake node that records every Authorization it gets; `relay`: it asks the real node for the proof. */
    async function impostor(relay: boolean): Promise<string> {
      const server = createServer((req, res) => {
        void (async () => {
          if (req.url === '/health') {
            const challenge = req.headers[TOKEN_CHALLENGE_HEADER]
            const id = req.headers[CREDENTIAL_ID_HEADER]
            if (relay && typeof challenge === 'string' && typeof id === 'string') {
              res.setHeader(TOKEN_PROOF_HEADER, (await proofFor(fx.url, challenge, id)) ?? '')
            }
            res.writeHead(200, { 'content-type': 'application/json' })
            return res.end('{"status":"ok"}')
          }
          authorizations.push(req.headers.authorization)
          res.writeHead(200, { 'content-type': 'application/json' })
          res.end('{}')
        })()
      })
      servers.push(server)
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    }

    it('one that cannot prove, and one that relays the challenge to the real node, never get the credential', async () => {
      const alice = await register('alice-targeted')
      for (const relay of [false, true]) {
        const client = new MeshsigClient({ server: await impostor(relay), token: alice.credential, proveToken: true })
        // an unproven server is not the node (decision 0055): nothing is sent to it, not even without the bearer
        await expect(client.send({ fromDid: alice.did, toDid: null, message: 'x' })).rejects.toMatchObject({
          code: 'NODE_UNPROVEN',
        })
      }
      expect(authorizations).toEqual([])
      // a client without proveToken sends it anywhere: the option is what guards it
      const careless = new MeshsigClient({ server: await impostor(false), token: alice.credential })
      await careless.send({ fromDid: alice.did, toDid: null, message: 'x' }).catch(() => undefined)
      expect(authorizations.at(-1)).toBe(`Bearer ${alice.credential}`)
    })
  })
})
