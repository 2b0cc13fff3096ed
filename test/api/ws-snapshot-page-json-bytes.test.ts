/**
 * The snapshot's messages (`GET /snapshot`, the first event of every
 * WebSocket stream client) are bounded by their JSON as written (attack
 * review 101, F4, decision 0067 addendum), as a `GET /messages` page is.
 * They were bounded by the UTF-8 bytes of their bodies, while each body is
 * written twice (`message` and `envelope.body`) and escaped: a body of
 * control characters (allowed) cost 1 byte against the bound and 12 on the
 * wire, so the "1 MiB" snapshot was ~12 MiB, held for each stalled client.
 *
 * A local user registers an agent and sends 100 bodies of 10,000 U+0001
 * (1,000,000 body bytes: under the bound). Then one body of 170,000 U+0001,
 * whose JSON alone (~2 MiB) passes the bound: the snapshot leaves it out too
 * and says so (attack review H3-1, decision 0091), `GET /messages` still has it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_LIMITS } from '../../node/limits.js'
import { expectNo500, startApi, type ApiFixture } from './api-fixture.js'

const MESSAGES = 100
const BODY = '\u0001'.repeat(10_000)

let fx: ApiFixture
let sender: { did: string; credential: string }

beforeAll(async () => {
  fx = await startApi() // rate limit off only to store the messages quickly; the bound asserted is per answer
  const reg = await fx.anon('POST', '/agents/register', { name: 'filler' })
  expect(reg.status).toBe(201)
  sender = reg.body.identity as { did: string; credential: string }
  const { did, credential } = sender
  for (let i = 0; i < MESSAGES; i++) {
    const sent = await fx.anon(
      'POST',
      '/messages/send',
      { fromDid: did, toDid: did, message: BODY },
      { authorization: `Bearer ${credential}` },
    )
    expect(sent.status).toBe(200)
  }
}, 300_000)

afterAll(async () => {
  expectNo500(fx)
  await fx?.stop()
})

describe('GET /snapshot (the stream first event), as another local user', () => {
  it('writes no more message JSON than snapshot.messageBytes', async () => {
    const res = await fx.anon('GET', '/snapshot')
    expect(res.status).toBe(200)
    const messages = res.body.messages as { message: string }[]
    const json = Buffer.byteLength(JSON.stringify(messages))
    const bodies = messages.reduce((n, m) => n + Buffer.byteLength(m.message), 0)
    const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`
    expect(
      json,
      `${messages.length} messages: ${mib(bodies)} of bodies, ${mib(json)} of JSON; whole answer ${mib(Buffer.byteLength(res.text))}`,
    ).toBeLessThanOrEqual(DEFAULT_LIMITS.snapshot.messageBytes)
    expect(res.body.page.messages.truncated).toBe(true)
  }, 120_000)

  it('leaves out a newest message whose JSON alone passes the bound, and says so', async () => {
    const sent = await fx.anon(
      'POST',
      '/messages/send',
      { fromDid: sender.did, toDid: sender.did, message: '\u0001'.repeat(170_000) },
      { authorization: `Bearer ${sender.credential}` },
    )
    expect(sent.status).toBe(200)
    const res = await fx.anon('GET', '/snapshot')
    expect(res.status).toBe(200)
    expect(res.body.messages).toEqual([])
    expect(res.body.page.messages).toEqual({ returned: 0, truncated: true })
    expect(Buffer.byteLength(res.text)).toBeLessThanOrEqual(DEFAULT_LIMITS.snapshot.messageBytes)
    const page = await fx.anon('GET', '/messages?limit=1')
    expect(page.status).toBe(200)
    expect((page.body.messages as { message: string }[])[0]!.message).toHaveLength(170_000)
  }, 120_000)
})
