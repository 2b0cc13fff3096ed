/**
 * The JSON form of `GET /audit/export` is built whole on the event loop: above
 * `limits.jsonExport.entries` the node builds one at most once per
 * `intervalMs` (429 with Retry-After meanwhile, naming the streamed form),
 * while the NDJSON form and small logs are never held back (docs/api.md).
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
