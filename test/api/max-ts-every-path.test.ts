/**
 * Signed times are held to MAX_TS on every path (review of 57c4af0): the
 * fast parse of msg, icp and reg envelopes let any safe integer through, so a
 * message signed past what a Date holds, arriving by sync, took GET /messages
 * and the audit export down; and the guards for "the last representable ts"
 * still tested against MAX_SAFE_INTEGER, so the node signed a registration
 * one past the cap when it rotated away from one pinned at it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMessage, createRegistration, keyPairFromB64, MAX_TS, parseEnvelope } from '../../node/core/index.js'
import { fillRegistry, signAgentsWithKeys } from '../helpers/registry-fill.js'
import { startApi, type ApiFixture } from './api-fixture.js'

let fx: ApiFixture
let health: { did: string; peerId: string }

beforeAll(async () => {
  fx = await startApi()
  health = (await fx.call('GET', '/health')).body
}, 120_000)

afterAll(async () => {
  await fx?.stop()
})

describe('signed times past MAX_TS', () => {
  it('parseEnvelope refuses a msg, icp or reg signed past MAX_TS (the fast path as the schema)', () => {
    const [a] = signAgentsWithKeys(1, fx.node, 'fast')
    const msg = createMessage(
      { from: a!.did, to: null, body: 'x', ts: MAX_TS, nonce: new Uint8Array(16).fill(7) },
      a!.key,
    )
    expect(() => parseEnvelope(msg)).not.toThrow()
    for (const e of [msg, a!.envelopes[1], a!.envelopes[0]]) {
      expect(() => parseEnvelope({ ...(e as object), ts: MAX_TS + 1_000 })).toThrow(/ts/)
    }
    expect(() =>
      createMessage({ from: a!.did, to: null, body: 'x', ts: MAX_TS + 1, nonce: new Uint8Array(16).fill(7) }, a!.key),
    ).toThrow(/ts/)
  })

  it('a msg signed past MAX_TS, arriving by sync, is refused, and GET /messages and the audit export answer', async () => {
    const [a] = signAgentsWithKeys(1, fx.node, 'late')
    const signed = createMessage(
      { from: a!.did, to: null, body: 'far', ts: MAX_TS, nonce: new Uint8Array(16).fill(9) },
      a!.key,
    )
    const far = { ...signed, ts: MAX_TS + 1_000 } as typeof signed
    fillRegistry(fx.node, [a!.envelopes, [far]])
    const status = async (path: string): Promise<number> => {
      try {
        return (await fx.call('GET', path)).status
      } catch {
        return -1
      }
    }
    expect({ m: await status('/messages'), e: await status('/audit/export') }).toEqual({ m: 200, e: 200 })
    expect(
      (await fx.call('GET', '/messages')).body.messages.some((m: { message: string }) => m.message === 'far'),
    ).toBe(false)
  }, 60_000)

  it('a registration pinned at MAX_TS (the last ts now accepted) does not block the rotation of its custodied key', async () => {
    const a = (await fx.call('POST', '/agents/register', { name: 'pinned-max' })).body.identity
    const key = keyPairFromB64(a.privateKey)
    const icp = fx.node.store.keyEvents.log(a.did)[0]!
    const reg = createRegistration(
      { did: a.did, name: 'pinned-max', capabilities: [], controller: health.did, peerId: health.peerId, ts: MAX_TS },
      key,
    )
    const pinned = await fx.call('POST', '/agents/register', {
      name: 'pinned-max',
      publicKey: a.publicKey,
      proof: { icp, reg },
    })
    expect(pinned.status).toBe(201)
    const r = await fx.call('POST', '/agents/rotate-key', { did: a.did })
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    // the node itself signs no registration past the cap
    const held = fx.node.store.agents.get(a.did)!
    expect(held.regTs).toBeLessThanOrEqual(MAX_TS)
    expect(() => parseEnvelope(JSON.parse(held.regEnvelope))).not.toThrow()
  }, 60_000)
})
