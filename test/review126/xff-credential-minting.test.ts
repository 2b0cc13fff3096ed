/**
 * Review 126: behind a trusted proxy on the same host (`trustProxy: ['loopback']`, the only place a
 * reverse proxy can reach a node bound to 127.0.0.1), every local user reaches the API directly from
 * loopback too, and `X-Forwarded-For` is believed from any loopback socket. A registration made with an
 * agent credential counts against "its address" (docs/protocol.md §8: "no client can multiply its buckets
 * faster than its address's limit of registrations"), and that address is whatever the caller writes.
 * So one agent credential mints credentials (and buckets, and agents) without bound.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type ApiFixture } from '../api/api-fixture.js'

describe('review 126: a credential holder on loopback cannot mint credentials past the rate limit by X-Forwarded-For', () => {
  let fx: ApiFixture
  beforeAll(async () => {
    fx = await startApi({ rateLimit: 2, trustProxy: ['loopback'] })
  })
  afterAll(async () => {
    await fx.stop()
  })

  it('registrations made with one agent credential stay within the limit whatever X-Forwarded-For says', async () => {
    const first = await fx.call('POST', '/agents/register', { name: 'agent-a' }) // the operator registers A
    expect(first.status).toBe(201)
    const credential = first.body.identity.credential as string
    const statuses: number[] = []
    for (let i = 1; i <= 10; i++) {
      const r = await fx.anon(
        'POST',
        '/agents/register',
        { name: `minted-${i}` },
        { authorization: `Bearer ${credential}`, 'x-forwarded-for': `198.51.100.${i}` },
      )
      statuses.push(r.status)
    }
    const minted = statuses.filter((s) => s === 201).length
    // today: 10 of 10 (each spoofed address is a fresh bucket); the limit is 2 per window
    expect(minted).toBeLessThanOrEqual(2)
  })
})
