/**
 * The seed's two message endpoints used together, as a seed user does (UPSTREAM-NOTES:
 * `POST /messages/send {fromDid, toDid, message, privateKey}` → `{sent, verified, signature, …}` and
 * `POST /messages/verify {did, message, signature}` → `{valid, did}`). meshsig signs envelopes, not bare
 * text (a deliberate and right change), so the `signature` a send answers is the envelope's `sig`, and the
 * seed's form of /messages/verify, fed the values the send just answered, said of a genuine, stored,
 * accepted message `{"valid": false, "code": "SIGNATURE_INVALID"}`, with no error text and no hint that
 * the envelope form is the one to use (review 105 L5): a user, or a script that alerts on invalid
 * signatures, read that as a forged message. The answer now names the envelope form, which verifies it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type ApiFixture } from './api-fixture.js'

let fx: ApiFixture

beforeAll(async () => {
  fx = await startApi()
}, 60_000)

afterAll(() => fx?.stop())

describe('seed flow: /messages/send, then /messages/verify {did, message, signature}', () => {
  it('does not call the genuine message just sent SIGNATURE_INVALID without a word', async () => {
    const a = (await fx.anon('POST', '/agents/register', { name: 'a' })).body as {
      identity: { did: string; privateKey: string }
    }
    const b = (await fx.anon('POST', '/agents/register', { name: 'b' })).body as { identity: { did: string } }
    const sent = await fx.anon('POST', '/messages/send', {
      fromDid: a.identity.did,
      toDid: b.identity.did,
      message: 'task',
      privateKey: a.identity.privateKey,
    })
    expect(sent.status).toBe(200)
    const s = sent.body as { signature: string; verified: boolean }
    expect(s.verified).toBe(true)

    const v = await fx.anon('POST', '/messages/verify', {
      did: a.identity.did,
      message: 'task',
      signature: s.signature,
    })
    const body = v.body as { valid: boolean; code?: string; error?: string }
    const report = JSON.stringify(body)
    // the answer says which form checks it, and that form says the message is genuine
    expect(body, report).toMatchObject({ valid: false, code: 'SIGNATURE_INVALID' })
    expect(body.error, report).toMatch(/envelope/)
    const id = (sent.body as { id: string }).id
    const stored = (await fx.anon('GET', `/messages/${id}`)).body as { message: { envelope: unknown } }
    const asEnvelope = await fx.anon('POST', '/messages/verify', { envelope: stored.message.envelope })
    expect(asEnvelope.body, JSON.stringify(asEnvelope.body)).toMatchObject({ valid: true, did: a.identity.did, id })
  })
})
