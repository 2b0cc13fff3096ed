/**
 * `GET /messages/:id` delivery state and `/metrics` undelivered count
 * (docs/api.md; docs/protocol.md §10), through the real API of one node: a
 * message to one of its own agents is delivered at once with the node's own
 * receipt; one to an agent no registry names stays pending and is counted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { didFromPublicKey, generateKeyPair } from '../../node/core/index.js'
import { startApi, type ApiFixture } from './api-fixture.js'

describe('delivery state at the API', () => {
  let fx: ApiFixture
  let alpha: string
  let beta: string

  beforeAll(async () => {
    fx = await startApi()
    alpha = (await fx.call('POST', '/agents/register', { name: 'alpha' })).body.identity.did
    beta = (await fx.call('POST', '/agents/register', { name: 'beta' })).body.identity.did
  })
  afterAll(() => fx.stop())

  const undelivered = async (): Promise<number> => {
    const text = (await fx.call('GET', '/metrics')).text
    const line = text.split('\n').find((l) => l.startsWith('meshsig_messages_undelivered '))
    return Number(line?.split(' ')[1])
  }

  it('a message to an agent of this node is delivered once stored: no receipt from the node to itself, nothing pending', async () => {
    const before = await undelivered()
    const sent = await fx.call('POST', '/messages/send', { fromDid: alpha, toDid: beta, message: 'next door' })
    expect(sent.status).toBe(200)
    const id = sent.body.id as string
    const got = (await fx.call('GET', `/messages/${id}`)).body
    expect(got.delivery).toMatchObject({ role: 'sender', state: 'delivered', code: null, receipt: null, attempts: 0 })
    expect(await undelivered()).toBe(before)
    const rows = fx.node.store.auditEntries.entries(0, fx.node.store.auditEntries.count())
    const kinds = rows.map((r) => JSON.parse(r.entry) as { kind: string; envelopeId: string | null })
    expect(kinds.filter((e) => e.envelopeId === id).map((e) => e.kind)).toEqual(['envelope.accepted'])
  })

  it('a message to an agent nobody hosts is pending, with the reason, and counted in /metrics', async () => {
    const before = await undelivered()
    const nobody = didFromPublicKey(generateKeyPair().publicKey)
    const sent = await fx.call('POST', '/messages/send', { fromDid: alpha, toDid: nobody, message: 'anyone?' })
    expect(sent.status).toBe(200)
    const got = (await fx.call('GET', `/messages/${sent.body.id as string}`)).body
    expect(got.delivery).toMatchObject({ role: 'sender', state: 'pending', receipt: null })
    expect(await undelivered()).toBe(before + 1)
  })

  it('a broadcast has no delivery state', async () => {
    const sent = await fx.call('POST', '/messages/send', { fromDid: alpha, toDid: null, message: 'all' })
    expect((await fx.call('GET', `/messages/${sent.body.id as string}`)).body.delivery).toBeNull()
  })
})
