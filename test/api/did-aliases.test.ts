import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createMessage,
  didKeyFromPublicKey,
  keyPairFromB64,
  toB64,
  type KeyPair,
  type MsgEnvelope,
  type Unsigned,
  signEnvelope,
} from '../../node/core/index.js'
import { expectNo500, startApi, type ApiFixture } from './api-fixture.js'

/** A did:key spelling of a DID must not escape its key event log (rotation, revocation). */
describe('did:key aliases of a did:msig identity', () => {
  let fx: ApiFixture
  let alice: { did: string; key: KeyPair }
  let bob: { did: string; key: KeyPair }

  async function register(name: string): Promise<{ did: string; key: KeyPair }> {
    const r = await fx.call('POST', '/agents/register', { name })
    const body = r.body as { identity: { did: string; privateKey: string } }
    return { did: body.identity.did, key: keyPairFromB64(body.identity.privateKey) }
  }

  beforeAll(async () => {
    fx = await startApi()
    alice = await register('alice')
    bob = await register('bob')
  })
  afterAll(async () => {
    expectNo500(fx)
    await fx?.stop()
  })

  it('envelopes carry did:msig only: a did:key sender or recipient is malformed', async () => {
    const aliasFrom = didKeyFromPublicKey(alice.key.publicKey)
    const unsigned: Unsigned<MsgEnvelope> = {
      v: 1,
      type: 'msg',
      from: aliasFrom,
      to: bob.did,
      body: 'via alias',
      ts: Date.now(),
      nonce: toB64(new Uint8Array(16).fill(1)),
    }
    const envelope = { ...unsigned, sig: toB64(alice.key.sign(new TextEncoder().encode('x'))) }
    const r = await fx.call('POST', '/messages/send', { envelope })
    expect(r.status).toBe(400)
    expect((r.body as { code: string }).code).toBe('MALFORMED')
    expect(() => signEnvelope<MsgEnvelope>(unsigned, alice.key)).toThrow(/did:msig/)
  })

  it('after revocation, neither spelling sends or verifies; /verify under the did:key says REVOKED', async () => {
    const msg = 'still me?'
    const sig = toB64(alice.key.sign(new TextEncoder().encode(msg)))
    expect((await fx.call('POST', '/agents/revoke', { did: alice.did, reason: 'key leaked' })).status).toBe(200)
    const viaDidKey = await fx.call('POST', '/verify', {
      message: msg,
      signature: sig,
      did: didKeyFromPublicKey(alice.key.publicKey),
    })
    expect((viaDidKey.body as { valid: boolean }).valid).toBe(false)
    const viaRawKey = await fx.call('POST', '/verify', {
      message: msg,
      signature: sig,
      publicKey: toB64(alice.key.publicKey),
    })
    expect((viaRawKey.body as { valid: boolean }).valid).toBe(false)
    const env = createMessage(
      { from: alice.did, to: bob.did, body: 'x', ts: Date.now(), nonce: new Uint8Array(16) },
      alice.key,
    )
    const sent = await fx.call('POST', '/messages/send', { envelope: env })
    expect(sent.status).toBe(403)
  })
})
