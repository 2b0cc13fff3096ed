/**
 * A connection earns what its messages earn (SPEC §6, decision 0051; attack
 * review of trust, stop 36). A connection's score counted every verified
 * message between two DIDs, from anyone and without bound: an anonymous
 * client with a fresh key that never registered sent an agent 40 signed
 * one-way messages, and the agent's own trust view listed a connection with
 * it at 0.976. Now messages earn a connection only between two registered
 * DIDs, with the sender's diminishing credit per recipient: one direction
 * alone stays under 2/3, both under 3/4.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MeshsigClient } from '../../api/client.js'
import { didFromPublicKey, generateKeyPair, TRUST_CREDIT } from '../../node/core/index.js'
import { startApi, type ApiFixture } from '../api/api-fixture.js'
import { post } from './audit-fixture.js'

let fx: ApiFixture
let anon: MeshsigClient

beforeAll(async () => {
  fx = await startApi()
  anon = new MeshsigClient({ server: fx.url })
}, 60_000)

afterAll(async () => {
  await fx?.stop()
})

describe('connection trust', () => {
  it('a DID without a registration earns no connection with the agent it messages', async () => {
    const victim = (await post(fx, '/agents/register', { name: 'victim' }, 201)).identity.did as string
    const key = generateKeyPair()
    const spammer = didFromPublicKey(key.publicKey) // never registered anywhere
    for (let i = 0; i < 40; i++) await anon.sendSigned(key, { from: spammer, to: victim, message: `#${i}` })
    const pair = (await anon.agentTrust(victim)).connections.find((c) => c.a === spammer || c.b === spammer)
    expect(pair?.score ?? 0.5).toBe(0.5)
  }, 60_000)

  it('one-way traffic from a registered DID earns at most what its sender earns from that recipient', async () => {
    const victim = (await post(fx, '/agents/register', { name: 'victim-2' }, 201)).identity.did as string
    const key = generateKeyPair()
    const sybil = (await anon.registerWithKey(key, { name: 'sybil' }, generateKeyPair())).identity.did
    for (let i = 0; i < 40; i++) await anon.sendSigned(key, { from: sybil, to: victim, message: `#${i}` })
    const pair = (await anon.agentTrust(victim)).connections.find((c) => c.a === sybil || c.b === sybil)!
    const earned = 1 - 2 ** -TRUST_CREDIT.perCounterparty // 1/2 + 1/4 + … for the first 8
    expect(pair.successes).toBe(earned)
    expect(pair.score).toBe((1 + earned) / (2 + earned))
    expect(pair.score).toBeLessThan(2 / 3)
    // the sender's own credit from it is the same
    expect((await anon.agentTrust(sybil)).successes).toBe(earned)
  }, 60_000)
})
