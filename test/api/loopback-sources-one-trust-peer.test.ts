/**
 * Review H4 F1: trust counts an API delivery against `api:<client>` (docs/protocol.md §7). Any local process
 * may connect to 127.0.0.1 from any source in 127.0.0.0/8 (Linux routes the whole /8 to lo), so a client taken
 * as the raw socket address let one local user, with no proxy and no credential, spread its forgeries over as
 * many fresh peers as it liked. The client is now the socket by the rate limiter's key: `loopback` for all of
 * it (decision 0090 addenda). Five forgeries from five loopback sources count against one peer.
 *
 * Review H7 F5: a local process may also connect to the loopback-bound API from one of the host's own
 * non-loopback addresses (a socket bound to 192.0.2.2, or a bridge's 10.88.0.1); a connection that came in on
 * a loopback address is `loopback` whatever its source. On a host with no such address that case has nothing
 * to try.
 */
import { request as httpRequest } from 'node:http'
import { networkInterfaces } from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMessage, generateKeyPair } from '../../node/core/index.js'
import type { PeerTrust } from '../../node/core/views.js'
import { randomNonce } from '../../node/sdk.js'
import { startApi, type ApiFixture } from './api-fixture.js'

/** POST JSON from the loopback source address `from`, with no credential. */
function postFrom(
  url: string,
  from: string,
  path: string,
  body: unknown,
): Promise<{ status: number; body: { code?: string } }> {
  const u = new URL(url)
  const text = JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: u.hostname,
        port: u.port,
        method: 'POST',
        path,
        localAddress: from,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(chunks).toString()) as { code?: string },
          }),
        )
      },
    )
    req.on('error', reject)
    req.end(text)
  })
}

/** The host's own IPv4 addresses that are not loopback. */
function ownAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((l) => l ?? [])
    .filter((i) => i.family === 'IPv4' && !i.internal)
    .map((i) => i.address)
}

describe('a local user cannot split its forgeries over loopback source addresses (decision 0090)', () => {
  let fx: ApiFixture
  beforeAll(async () => {
    fx = await startApi({})
  })
  afterAll(async () => {
    await fx.stop()
  })

  it('forgeries from 127.0.0.2 .. 127.0.0.6 count against one loopback client in trust', async () => {
    const victim = (await fx.call('POST', '/agents/register', { name: 'victim' })).body.identity
    for (let i = 2; i <= 6; i++) {
      const forged = createMessage(
        { from: victim.did, to: null, body: `forged ${i}`, ts: Date.now(), nonce: randomNonce() },
        generateKeyPair(),
      )
      const r = await postFrom(fx.url, `127.0.0.${i}`, '/messages/send', { envelope: forged })
      expect(r.body.code).toBe('SIGNATURE_INVALID') // anonymous, no proxy: refused and charged to the deliverer
    }
    const peers = ((await fx.anon('GET', '/trust')).body.peers as PeerTrust[]).map((p) => p.peer)
    // before: api:127.0.0.2 … api:127.0.0.6, five fresh peers with one failure each
    expect(peers.filter((p) => p.startsWith('api:127.'))).toEqual([])
    expect(peers).toContain('api:loopback')
  })

  it.skipIf(ownAddresses().length === 0)("forgeries from the host's own addresses count against loopback", async () => {
    expect(new URL(fx.url).hostname).toBe('127.0.0.1') // the API listens on loopback only
    const victim = (await fx.call('POST', '/agents/register', { name: 'victim' })).body.identity
    for (const from of ownAddresses()) {
      const forged = createMessage(
        { from: victim.did, to: null, body: `forged from ${from}`, ts: Date.now(), nonce: randomNonce() },
        generateKeyPair(),
      )
      const r = await postFrom(fx.url, from, '/messages/send', { envelope: forged })
      expect(r.body.code).toBe('SIGNATURE_INVALID') // reached the loopback-only API, refused and charged
    }
    const peers = ((await fx.anon('GET', '/trust')).body.peers as PeerTrust[]).map((p) => p.peer)
    // before: api:192.0.2.2, api:10.88.0.1, … one fresh peer per host address (review H7 F5)
    expect(peers.filter((p) => p.startsWith('api:'))).toEqual(['api:loopback'])
  })
})
