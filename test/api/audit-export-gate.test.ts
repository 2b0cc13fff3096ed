/**
 * The JSON form of `GET /audit/export` is built whole on the event loop: above
 * `limits.jsonExport.entries` the node builds one at most once per
 * `intervalMs` (429 with Retry-After meanwhile, naming the streamed form),
 * while the NDJSON form and small logs are never held back; past
 * `limits.jsonExport.messageBytes` of stored messages it is not built at all
 * (413, naming the streamed form; attack review 98), since one export held
 * every stored body twice (docs/api.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type ApiFixture } from './api-fixture.js'

describe('large JSON audit exports, node-wide', () => {
  let fx: ApiFixture
  beforeAll(async () => {
    fx = await startApi({}, {}, { init: { limits: { jsonExport: { entries: 5, intervalMs: 60_000 } } } })
    for (let i = 0; i < 3; i++) await fx.call('POST', '/agents/register', { name: `a${i}` })
  })
  afterAll(() => fx.stop())

  it('one JSON export of a log past the bound, then 429 with Retry-After; NDJSON still served', async () => {
    expect(fx.node.auditSize()).toBeGreaterThan(5)
    const first = await fx.anon('GET', '/audit/export')
    expect(first.status).toBe(200)
    const second = await fx.anon('GET', '/audit/export')
    expect(second.status).toBe(429)
    expect(second.body).toMatchObject({ code: 'RATE_LIMITED' })
    expect(second.body.retryAfter).toBeGreaterThan(0)
    expect(second.headers['retry-after']).toBe(String(second.body.retryAfter))
    expect(second.body.error).toContain('format=ndjson')
    const streamed = await fx.anon('GET', '/audit/export?format=ndjson')
    expect(streamed.status).toBe(200)
  })
})

describe('JSON audit exports of many stored message bytes', () => {
  let fx: ApiFixture
  const BOUND = 4_000
  beforeAll(async () => {
    fx = await startApi({}, {}, { init: { limits: { jsonExport: { messageBytes: BOUND } } } })
    const a = (await fx.call('POST', '/agents/register', { name: 'a' })).body.record.did as string
    const b = (await fx.call('POST', '/agents/register', { name: 'b' })).body.record.did as string
    expect((await fx.call('POST', '/messages/send', { fromDid: a, toDid: b, message: 'x'.repeat(1_000) })).status).toBe(
      200,
    )
    expect((await fx.anon('GET', '/audit/export')).status).toBe(200) // within the bound: built
    expect((await fx.call('POST', '/messages/send', { fromDid: a, toDid: b, message: 'y'.repeat(3_000) })).status).toBe(
      200,
    )
  })
  afterAll(() => fx.stop())

  it('are refused past the bound with 413, naming the NDJSON form, which streams them all', async () => {
    expect(fx.node.auditSize()).toBeLessThan(10_000) // not the entries' gate
    const refused = await fx.anon('GET', '/audit/export')
    expect(refused.status).toBe(413)
    expect(refused.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' })
    expect(refused.body.error).toContain('format=ndjson')
    expect((await fx.call('POST', '/audit/checkpoint')).status).toBe(201) // the stream exports a signed size
    const streamed = await fx.anon('GET', '/audit/export?format=ndjson')
    expect(streamed.status).toBe(200)
    expect(streamed.text).toContain('y'.repeat(3_000))
  })
})
