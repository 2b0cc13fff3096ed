/**
 * Review 126 F2 (Low, decision 0090): behind a trusted proxy every WebSocket upgrade counted against one bucket,
 * "address:unknown" (an upgrade skips Express, so no req.ip): one local user's upgrades got every other 429.
 */
import type { IncomingMessage } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { startApi, type ApiFixture } from './api-fixture.js'

const held: WebSocket[] = []

function upgradeStatus(url: string, forwardedFor: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws') + '/events', { headers: { 'x-forwarded-for': forwardedFor } })
    ws.once('open', () => {
      held.push(ws)
      resolve(101)
    })
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    ws.once('error', reject)
  })
}

describe('behind a trusted proxy, stream upgrades count per forwarded client like other requests', () => {
  let fx: ApiFixture
  beforeAll(async () => {
    fx = await startApi({ rateLimit: 2, trustProxy: ['loopback'] })
  })
  afterAll(async () => {
    for (const ws of held.splice(0)) ws.terminate()
    await fx.stop()
  })

  it("one client's upgrades do not spend another client's", async () => {
    const attacker = [
      await upgradeStatus(fx.url, '198.51.100.66'),
      await upgradeStatus(fx.url, '198.51.100.66'),
      await upgradeStatus(fx.url, '198.51.100.66'),
    ]
    expect(attacker).toEqual([101, 101, 429])
    // the victim's HTTP request counts against its own address (200) ...
    expect((await fx.anon('GET', '/stats', undefined, { 'x-forwarded-for': '203.0.113.7' })).status).toBe(200)
    // ... and so should its upgrade (before decision 0090: 429, the one "address:unknown" bucket the attacker spent)
    expect(await upgradeStatus(fx.url, '203.0.113.7')).toBe(101)
  })

  it("an upgrade counts against the bucket of its client's HTTP requests", async () => {
    const as = { 'x-forwarded-for': '203.0.113.50' }
    expect((await fx.anon('GET', '/stats', undefined, as)).status).toBe(200)
    expect((await fx.anon('GET', '/stats', undefined, as)).status).toBe(200)
    expect(await upgradeStatus(fx.url, '203.0.113.50')).toBe(429)
  })
})
