/**
 * `POST /messages/send {envelope}` takes a `msg` envelope only (docs/api.md). An inception, a registration, a
 * rotation or a checkpoint sent there is `INVALID_INPUT` and changes nothing: before, each was stored and
 * audited (a registration naming a controller that `POST /agents/register` would refuse) and never gossiped,
 * while the answer said `sent: true` (review 81, F2).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectNo500, startApi, type ApiFixture } from './api-fixture.js'
import {
  createCheckpoint,
  createInception,
  createRegistration,
  generateKeyPair,
  type Envelope,
} from '../../node/core/index.js'

describe('POST /messages/send with an envelope that is no message', () => {
  let fx: ApiFixture
  beforeAll(async () => {
    fx = await startApi()
  })
  afterAll(async () => {
    expectNo500(fx)
    await fx.stop()
  })

  it('refuses an icp, a reg and a chk with INVALID_INPUT; no key log, agent or audit entry appears', async () => {
    const key = generateKeyPair()
    const icp = createInception(key, Date.now(), generateKeyPair())
    const reg = createRegistration(
      {
        did: icp.did,
        name: 'elsewhere',
        capabilities: [{ type: 'x' }],
        controller: icp.did, // not this node: /agents/register refuses it
        peerId: '12D3KooWAnything',
        ts: Date.now(),
      },
      key,
    )
    const chk = createCheckpoint(icp.did, 1, new Uint8Array(32), Date.now(), key)
    const before = (await fx.call('GET', '/stats')).body as { auditEntries: number; agents: number }
    for (const envelope of [icp, reg, chk] as Envelope[]) {
      const r = await fx.anon('POST', '/messages/send', { envelope })
      expect(r.status, envelope.type).toBe(400)
      expect(r.body).toMatchObject({ code: 'INVALID_INPUT' })
    }
    expect((await fx.anon('GET', `/keys/${icp.did}`)).body).toMatchObject({ known: false })
    expect((await fx.anon('GET', `/agents/${icp.did}`)).status).toBe(404)
    const after = (await fx.call('GET', '/stats')).body as { auditEntries: number; agents: number }
    expect(after).toMatchObject({ auditEntries: before.auditEntries, agents: before.agents })
  })
})
