/**
 * Decision 0090, its part left open by review 126: the audit entries of sends, rotations and revocations made
 * through the API named the forwarded (claimed) address as the client, `deliveredBy: "api:<X-Forwarded-For>"`,
 * and trust counts each `deliveredBy` as a peer (docs/protocol.md §7): a local user behind a trusted proxy on
 * loopback could split its forgeries over fresh claimed addresses, or charge them to another client's. Now they
 * name the socket's address, the claim apart as `forwardedFor`, as `api.refused` does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMessage, generateKeyPair } from '../../node/core/index.js'
import type { AuditEntry } from '../../node/core/audit-entry.js'
import type { PeerTrust } from '../../node/core/views.js'
import { randomNonce } from '../../node/sdk.js'
import { startApi, type ApiFixture } from './api-fixture.js'

/** The delivery fields of the entries appended since `before` of kind `kind`. */
function deliveries(fx: ApiFixture, before: number, kind: string): Record<string, unknown>[] {
  return fx.node.store.auditEntries
    .entries(before, 1000)
    .map((r) => JSON.parse(r.entry) as AuditEntry)
    .filter((e) => e.kind === kind)
    .map(({ data }) => ({ deliveredBy: data.deliveredBy, forwardedFor: data.forwardedFor }))
}

/** Run `act` and answer the delivery fields of the `kind` entries it appended. */
async function recorded(fx: ApiFixture, kind: string, act: () => Promise<number>): Promise<Record<string, unknown>[]> {
  const before = fx.node.store.auditEntries.count()
  expect(await act()).toBe(200)
  return deliveries(fx, before, kind)
}

/** Send, rotate and revoke agent A with `X-Forwarded-For: claim`; the delivery fields of their entries. */
async function sendRotateRevoke(fx: ApiFixture, claim: string): Promise<Record<string, unknown>[][]> {
  const headers = { 'x-forwarded-for': claim }
  const a = (await fx.call('POST', '/agents/register', { name: 'agent-a' })).body.identity
  const b = (await fx.call('POST', '/agents/register', { name: 'agent-b' })).body.identity
  const send = { fromDid: a.did, toDid: b.did, message: 'hello' }
  return [
    await recorded(
      fx,
      'envelope.accepted',
      async () => (await fx.call('POST', '/messages/send', send, headers)).status,
    ),
    await recorded(
      fx,
      'key.rotated',
      async () => (await fx.call('POST', '/agents/rotate-key', { did: a.did }, headers)).status,
    ),
    await recorded(
      fx,
      'agent.revoked',
      async () => (await fx.call('POST', '/agents/revoke', { did: a.did }, headers)).status,
    ),
  ]
}

describe('behind a trusted proxy, deliveries record the socket as client and the claim apart', () => {
  let fx: ApiFixture
  beforeAll(async () => {
    fx = await startApi({ trustProxy: ['loopback'] })
  })
  afterAll(async () => {
    await fx.stop()
  })

  it('a send, a rotation and a revocation with X-Forwarded-For', async () => {
    const socket = { deliveredBy: 'api:loopback', forwardedFor: '192.0.2.7' }
    // before: deliveredBy "api:192.0.2.7" and no forwardedFor, in all three
    expect(await sendRotateRevoke(fx, '192.0.2.7')).toEqual([[socket], [socket], [socket]])
  })

  it('forgeries under ten claimed addresses count against the one socket in trust', async () => {
    const victim = (await fx.call('POST', '/agents/register', { name: 'victim' })).body.identity
    const before = fx.node.store.auditEntries.count()
    for (let i = 1; i <= 10; i++) {
      const forged = createMessage(
        { from: victim.did, to: null, body: `forged ${i}`, ts: Date.now(), nonce: randomNonce() },
        generateKeyPair(),
      )
      const r = await fx.call('POST', '/messages/send', { envelope: forged }, { 'x-forwarded-for': `198.51.100.${i}` })
      expect(r.body.code).toBe('SIGNATURE_INVALID')
    }
    const claims = Array.from({ length: 10 }, (_, i) => `198.51.100.${i + 1}`)
    expect(deliveries(fx, before, 'envelope.rejected')).toEqual(
      claims.map((forwardedFor) => ({ deliveredBy: 'api:loopback', forwardedFor })),
    )
    const peers = ((await fx.anon('GET', '/trust')).body.peers as PeerTrust[]).map((p) => p.peer)
    // before: ten fresh peers api:198.51.100.1 ... 10, each with one failure
    expect(peers.filter((p) => p.startsWith('api:198.51.100.'))).toEqual([])
    expect(peers).toContain('api:loopback')
  })
})

describe('without a trusted proxy X-Forwarded-For is not read', () => {
  let fx: ApiFixture
  beforeAll(async () => {
    fx = await startApi({})
  })
  afterAll(async () => {
    await fx.stop()
  })

  it('the socket is the client and nothing is recorded apart', async () => {
    const socket = { deliveredBy: 'api:loopback', forwardedFor: undefined }
    expect(await sendRotateRevoke(fx, '192.0.2.7')).toEqual([[socket], [socket], [socket]])
  })
})
