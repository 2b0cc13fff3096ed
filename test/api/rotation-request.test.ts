/**
 * `POST /agents/rotate-key {did, keyProof}` (decision 0047): the holder of a
 * custodied agent's current key proves it with a rotation request signed by
 * that key (core/rotation-request.ts) instead of sending the key, and the
 * node rotates to the next key it keeps. The request names the node and the
 * DID's last key event, lies within ±5 minutes, and is signed by the current
 * key; it is spent by the rotation it asks for. The answer carries no key,
 * so a listener that relayed the request learns nothing. The seed-style
 * `currentPrivateKey` still works (the seed README's curl).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createRotationRequest,
  didFromPublicKey,
  generateKeyPair,
  keyPairFromB64,
  toB64,
  type KeyPair,
  type KeyState,
  type RotationRequestInit,
} from '../../node/core/index.js'
import { ownAgent } from '../integration/keys-fixture.js'
import { expectNo500, startApi, type ApiFixture } from './api-fixture.js'

let fx: ApiFixture
let nodeDid = ''

beforeAll(async () => {
  fx = await startApi()
  nodeDid = (await fx.call('GET', '/health')).body.did
})
afterAll(async () => {
  expectNo500(fx)
  await fx.stop()
})

const state = (did: string): KeyState => fx.node.store.keyEvents.state(did)!

/** A custodied agent made by the node, and the private key its registration gave the caller. */
async function custodied(name: string): Promise<{ did: string; key: KeyPair }> {
  const identity = (await fx.call('POST', '/agents/register', { name })).body.identity
  return { did: identity.did, key: keyPairFromB64(identity.privateKey) }
}

function request(did: string, key: KeyPair, change: Partial<RotationRequestInit> = {}) {
  return createRotationRequest({ did, prev: state(did).lastId, node: nodeDid, ts: Date.now(), ...change }, key)
}

/** Rotate anonymously (another local user: no bearer), with `body`. */
const rotate = (body: unknown) => fx.anon('POST', '/agents/rotate-key', body)

describe('rotation of a custodied agent on a signed rotation request', () => {
  it('rotates to the committed next key the node keeps; the answer carries no key', async () => {
    const a = await custodied('by-request')
    const before = state(a.did)
    const r = await rotate({ did: a.did, keyProof: request(a.did, a.key) })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ rotated: true, did: a.did, keySeq: 1, custodied: true })
    expect(r.body).not.toHaveProperty('privateKey')
    expect(r.body).not.toHaveProperty('nextPrivateKey')
    expect(state(a.did).seq).toBe(1)
    expect(state(a.did).priorKeys).toEqual([before.key])
  })

  it('a request is spent by the rotation it asked for: sent again it is KEL_INVALID and changes nothing', async () => {
    const a = await custodied('replayed')
    const proof = request(a.did, a.key)
    expect((await rotate({ did: a.did, keyProof: proof })).status).toBe(200)
    const again = await rotate({ did: a.did, keyProof: proof })
    expect(again.body.code).toBe('KEL_INVALID')
    expect(state(a.did).seq).toBe(1)
  })

  it('refuses a request for another node, another DID, out of the time window, or not signed by the current key', async () => {
    const a = await custodied('refusals')
    const other = didFromPublicKey(generateKeyPair().publicKey)
    const cases: Array<[unknown, string]> = [
      [request(a.did, a.key, { node: other }), 'INVALID_INPUT'],
      [request(a.did, a.key, { did: other }), 'INVALID_INPUT'],
      [request(a.did, a.key, { ts: Date.now() - 10 * 60_000 }), 'CLOCK_SKEW'],
      [request(a.did, generateKeyPair()), 'SIGNATURE_INVALID'],
      [request(a.did, a.key, { prev: 'ab'.repeat(32) }), 'KEL_INVALID'],
      [{ ...request(a.did, a.key), extra: 1 }, 'MALFORMED'],
    ]
    for (const [keyProof, code] of cases) {
      const r = await rotate({ did: a.did, keyProof })
      expect(r.body.code, code).toBe(code)
    }
    expect(state(a.did).seq).toBe(0)
  })

  it('an agent whose keys the node does not keep: PRE_ROTATION_MISMATCH (sign the rot with the next key)', async () => {
    const own = await ownAgent(fx.node, 'own-keys')
    const r = await rotate({ did: own.did, keyProof: request(own.did, own.key) })
    expect(r.body.code).toBe('PRE_ROTATION_MISMATCH')
    expect(state(own.did).seq).toBe(0)
  })

  it('the seed-style currentPrivateKey still rotates (the seed README’s curl)', async () => {
    const a = await custodied('seed-style')
    const r = await rotate({ did: a.did, currentPrivateKey: toB64(a.key.seed) })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ rotated: true, keySeq: 1, custodied: true })
  })
})
