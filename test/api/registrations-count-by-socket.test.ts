/**
 * Review 126 F1 (Medium, decision 0090): behind a trusted proxy on loopback, X-Forwarded-For minted credentials
 * without bound (10 registrations at rateLimit 2 with one agent credential), and api.refused recorded the claim as client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PROXY_ON_LOOPBACK_WARNING } from '../../api/app.js'
import type { AuditEntry } from '../../node/core/audit-entry.js'
import { createLogger } from '../../node/logger.js'
import { startApi, type ApiFixture } from './api-fixture.js'

describe('a credential holder on loopback cannot mint credentials past the rate limit by X-Forwarded-For', () => {
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
    // before decision 0090: 10 of 10 (each claimed address a fresh bucket); the limit is 2 per window
    expect(statuses.filter((s) => s === 201).length).toBeLessThanOrEqual(2)
  })
})

describe('an api.refused entry names the socket as client, a forwarded address apart', () => {
  let fx: ApiFixture
  beforeAll(async () => {
    fx = await startApi({ trustProxy: ['loopback'] })
  })
  afterAll(async () => {
    await fx.stop()
  })

  it('client is the socket address, forwardedFor the claim', async () => {
    const a = await fx.call('POST', '/agents/register', { name: 'agent-a' })
    const before = fx.node.store.auditEntries.count()
    const headers = { authorization: `Bearer ${a.body.identity.credential as string}`, 'x-forwarded-for': '192.0.2.99' }
    expect((await fx.anon('POST', '/audit/checkpoint', undefined, headers)).status).toBe(403)
    const entries = fx.node.store.auditEntries.entries(before, 1000).map((r) => JSON.parse(r.entry) as AuditEntry)
    const refused = entries.filter((e) => e.kind === 'api.refused').map((e) => e.data)
    expect(refused).toEqual([
      { action: 'audit.checkpoint', client: 'loopback', forwardedFor: '192.0.2.99', authority: 'agent' },
    ])
  })
})

describe('at start, a trusted proxy covering loopback is warned of once', () => {
  async function warningsWith(trustProxy: string[]): Promise<string[]> {
    const lines: string[] = []
    const logger = createLogger({ level: 'warn', json: false, write: (line) => lines.push(line) })
    const fx = await startApi({ trustProxy }, {}, { init: { logger } })
    await fx.stop()
    return lines.filter((l) => l.includes(PROXY_ON_LOOPBACK_WARNING))
  }

  it('loopback or 127.0.0.1: one line; a proxy elsewhere: none', async () => {
    expect(await warningsWith(['loopback'])).toHaveLength(1)
    expect(await warningsWith(['127.0.0.1'])).toHaveLength(1)
    expect(await warningsWith(['10.0.0.5'])).toHaveLength(0)
  })
})
