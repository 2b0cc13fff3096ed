// Review 128 (decision 0090, F2): `forwardedClient` claims to give a WebSocket upgrade "the req.ip Express would".
// Express computes req.ip with proxy-addr, which trims only spaces (0x20) around each X-Forwarded-For entry and
// keeps an entry of other whitespace as an address; forwardedClient used String.trim (tabs, NBSP, ...) and dropped
// such entries. The same header from the same socket then names two clients: the HTTP request and the upgrade count in
// different rate-limit buckets ("address:203.0.113.7\t" vs "address:203.0.113.7").
import { describe, expect, it } from 'vitest'
import { createRequire } from 'node:module'
import { forwardedClient, type ProxyTrust } from '../../api/auth.js'

/** Express's own req.ip (proxy-addr, a dependency of Express, untyped): the independent reference. */
const proxyaddr = createRequire(import.meta.url)('proxy-addr') as {
  (req: unknown, trust: ProxyTrust): string
  compile(list: string[]): ProxyTrust
}
const trust = proxyaddr.compile(['127.0.0.1']) // what app.get('trust proxy fn') compiles

function request(xff: string) {
  return {
    socket: { remoteAddress: '127.0.0.1' },
    connection: { remoteAddress: '127.0.0.1' },
    headers: { 'x-forwarded-for': xff },
  }
}

describe('forwardedClient gives what Express req.ip gives (review 128)', () => {
  const values = [
    '203.0.113.7\t, 127.0.0.1',
    '\u00a0203.0.113.7',
    '203.0.113.7, \t, 127.0.0.1',
    ' 203.0.113.7 ,, 10.0.0.1 ',
  ]
  for (const xff of values) {
    it(`for X-Forwarded-For ${JSON.stringify(xff)}`, () => {
      const req = request(xff)
      const express = proxyaddr(req, trust)
      expect(forwardedClient(req as never, trust)).toBe(express)
    })
  }
})
