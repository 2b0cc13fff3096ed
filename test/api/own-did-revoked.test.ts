/**
 * A node whose own DID is revoked fails closed (review 105 M1, decision 0077): it registers and rotates no
 * agent (each would name the revoked DID as controller, and peers would list them as hosted by it), and
 * `/health` says `status: "revoked"`. The agents it hosted before can still be revoked: a revocation only
 * takes authority away (docs/protocol.md §6).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createInception, createRegistration, generateKeyPair, toB64 } from '../../node/core/index.js'
import { identityRevocation } from '../../node/identity/index.js'
import { freshIdentity } from '../helpers/mesh.js'
import { expectNo500, startApi, type ApiFixture } from './api-fixture.js'

describe('a node whose own DID is revoked', () => {
  const identity = freshIdentity()
  let fx: ApiFixture
  let health: { did: string; peerId: string; status: string }

  function ownKeyProof(name: string) {
    const key = generateKeyPair()
    const icp = createInception(key, Date.now(), generateKeyPair())
    const init = { did: icp.did, name, capabilities: [], controller: health.did, peerId: health.peerId, ts: Date.now() }
    return { name, publicKey: toB64(key.publicKey), proof: { icp, reg: createRegistration(init, key) } }
  }

  beforeAll(async () => {
    fx = await startApi({}, {}, { identity })
    health = (await fx.call('GET', '/health')).body as typeof health
  })
  afterAll(async () => {
    expectNo500(fx)
    await fx?.stop()
  })

  it('registers, rotates and hosts no agent any more, and /health says revoked; revocations go on', async () => {
    expect(health).toMatchObject({ did: identity.did, status: 'ok' })
    expect(health).not.toHaveProperty('revocation')
    const custodied = (await fx.call('POST', '/agents/register', { name: 'before' })).body as {
      identity: { did: string }
    }
    const ownKey = ownKeyProof('own-before')
    expect((await fx.call('POST', '/agents/register', ownKey)).status).toBe(201)

    const rev = identityRevocation(identity, 'node key stolen')
    const revoked = await fx.call('POST', '/agents/revoke', {
      did: identity.did,
      reason: 'node key stolen',
      envelope: rev,
    })
    expect(revoked.status, revoked.text).toBe(200)

    const after = (await fx.call('GET', '/health')).body
    expect(after).toMatchObject({ status: 'revoked', revocation: { reason: 'node key stolen', by: 'self' } })
    const agentsBefore = fx.node.store.agents.count()
    const refused = [
      await fx.call('POST', '/agents/register', { name: 'after' }),
      await fx.call('POST', '/agents/register', ownKeyProof('own-after')),
      await fx.call('POST', '/agents/rotate-key', { did: custodied.identity.did }),
    ]
    for (const r of refused) {
      expect(r.status, r.text).toBe(403)
      expect(r.body).toMatchObject({ code: 'REVOKED', did: identity.did })
    }
    expect(fx.node.store.agents.count()).toBe(agentsBefore)
    expect(fx.node.store.keyEvents.state(custodied.identity.did)!.seq).toBe(0)

    // what it hosted can still be taken away: its custodied key, and the node key as controller
    for (const did of [custodied.identity.did, ownKey.proof.icp.did]) {
      const r = await fx.call('POST', '/agents/revoke', { did, reason: 'host revoked' })
      expect(r.status, `${did}: ${r.text}`).toBe(200)
      expect(fx.node.store.keyEvents.state(did)!.revoked).toMatchObject({ reason: 'host revoked' })
    }
  })
})
