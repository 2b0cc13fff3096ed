/**
 * Identity and request-response between real nodes: the PeerId is the core
 * PeerId of the seed, `/meshsig/sync/1.0.0` returns what the provider gives,
 * extra protocols round-trip, and every failure is one MeshsigError code.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MeshsigError, keyPairFromSeed, peerIdFromPublicKey, sha256 } from '../../node/core/index.js'
import {
  DISCOVER_PROTOCOL,
  capabilityCid,
  createMeshP2P,
  decodeSyncRequest,
  encodeSyncRequest,
  resolveSeedAddress,
  type MeshP2P,
} from '../../node/p2p/index.js'
import { waitFor } from '../helpers/wait-for.js'
import { bytes, startPeer, stopAll, type Peer } from './p2p-fixture.js'

const text = (b: Uint8Array): string => new TextDecoder().decode(b)

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
    return 'no error'
  } catch (err) {
    expect(err).toBeInstanceOf(MeshsigError)
    return (err as MeshsigError).code
  }
}

describe('p2p identity and request-response', () => {
  let a: Peer
  let b: Peer

  beforeAll(async () => {
    a = await startPeer()
    b = await startPeer({ bootstrap: [a.node.multiaddrs()[0]!] })
    await waitFor(() => b.node.peers().some((p) => p.peerId === a.peerId), { timeout: 20_000 })
  }, 60_000)

  afterAll(async () => {
    await stopAll([a, b])
  })

  it('derives the PeerId from the seed exactly as core does', () => {
    for (const p of [a, b]) {
      expect(p.peerId).toBe(peerIdFromPublicKey(keyPairFromSeed(p.seed).publicKey))
      for (const addr of p.node.multiaddrs()) expect(addr.endsWith(`/p2p/${p.peerId}`)).toBe(true)
    }
  })

  it('refuses a seed that is not 32 bytes', async () => {
    const init = { validate: () => 'accept' as const, onMessage: () => undefined, syncProvider: () => [] }
    expect(await codeOf(createMeshP2P({ ...init, seed: new Uint8Array(31) }))).toBe('INVALID_INPUT')
  })

  it('a mesh node not running (not started, or stopped for a move to a new key) answers UNREACHABLE, a retryable code', async () => {
    const init = { validate: () => 'accept' as const, onMessage: () => undefined, syncProvider: () => [] }
    const idle = await createMeshP2P({ ...init, seed: new Uint8Array(32).fill(7), transports: 'memory' })
    expect(await codeOf(idle.dial(a.node.multiaddrs()[0]!))).toBe('UNREACHABLE')
    expect(await codeOf(Promise.resolve().then(() => idle.publish('meshsig/v1/messages', bytes('x'))))).toBe(
      'UNREACHABLE',
    )
  })

  it('syncs: returns the provider items in order, with the request decoded', async () => {
    const seen: unknown[] = []
    a.syncItems = [bytes('env-1'), bytes('env-2'), new Uint8Array(0), bytes('x'.repeat(200_000))]
    const items = await b.node.sync(a.peerId, { kind: 'registry', since: 42 })
    expect(items.map((i) => i.length)).toEqual([5, 5, 0, 200_000])
    expect(text(items[0]!)).toBe('env-1')
    seen.push(decodeSyncRequest(encodeSyncRequest({ kind: 'registry', since: 42 })))
    expect(seen).toEqual([{ kind: 'registry', since: 42 }])
  })

  it('syncs an empty registry as an empty list', async () => {
    a.syncItems = []
    expect(await b.node.sync(a.peerId, { kind: 'registry' })).toEqual([])
  })

  it('rejects malformed sync requests locally and remotely', async () => {
    expect(await codeOf(b.node.sync(a.peerId, { kind: 'other' } as never))).toBe('INVALID_INPUT')
    expect(await codeOf(b.node.sync(a.peerId, { kind: 'registry', since: -1 }))).toBe('INVALID_INPUT')
    expect(() => decodeSyncRequest(bytes('{"kind":"registry","extra":1}'))).toThrow(/unknown sync request field/)
    expect(() => decodeSyncRequest(bytes('not json'))).toThrow(MeshsigError)
  })

  it('round-trips an extra protocol and reports the remote error code', async () => {
    await a.node.registerProtocol(DISCOVER_PROTOCOL, (req, from) => {
      if (text(req) === 'boom') throw new MeshsigError('NOT_FOUND', 'no such agent')
      return bytes(`${text(req)} from ${from}`)
    })
    const answer = await b.node.request(a.peerId, DISCOVER_PROTOCOL, bytes('find analysis'))
    expect(text(answer)).toBe(`find analysis from ${b.peerId}`)
    const failure = await b.node.request(a.peerId, DISCOVER_PROTOCOL, bytes('boom')).catch((e: MeshsigError) => e)
    expect(failure).toMatchObject({ code: 'PEER_ERROR', details: { remoteCode: 'NOT_FOUND' } })
  })

  it('maps failures to INVALID_INPUT, PEER_ERROR and UNREACHABLE', async () => {
    const stranger = peerIdFromPublicKey(keyPairFromSeed(new Uint8Array(32).fill(7)).publicKey)
    expect(await codeOf(b.node.request('not-a-peer', DISCOVER_PROTOCOL, bytes('x')))).toBe('INVALID_INPUT')
    expect(await codeOf(b.node.request(a.peerId, '/meshsig/none/1.0.0', bytes('x')))).toBe('PEER_ERROR')
    expect(await codeOf(b.node.request(a.peerId, DISCOVER_PROTOCOL, new Uint8Array(70_000)))).toBe('INVALID_INPUT')
    expect(await codeOf(b.node.request(stranger, DISCOVER_PROTOCOL, bytes('x'), { timeoutMs: 3_000 }))).toBe(
      'UNREACHABLE',
    )
    expect(await codeOf(b.node.dial('/ip4/127.0.0.1/tcp/1', { timeoutMs: 3_000 }))).toBe('UNREACHABLE')
    expect(await codeOf(b.node.dial('/not/a/multiaddr'))).toBe('INVALID_INPUT')
    expect(await codeOf(b.node.registerProtocol('no-slash', () => bytes('')))).toBe('INVALID_INPUT')
  })

  it('times out a handler that never answers', async () => {
    await a.node.registerProtocol('/meshsig/test-hang/1.0.0', () => new Promise<Uint8Array>(() => undefined))
    const started = Date.now()
    const code = await codeOf(b.node.request(a.peerId, '/meshsig/test-hang/1.0.0', bytes('x'), { timeoutMs: 500 }))
    expect(code).toBe('UNREACHABLE')
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('keys capabilities by CID v1 raw of SHA-256("meshsig/capability/v1:" + type)', () => {
    const cid = capabilityCid('analysis')
    expect(cid.version).toBe(1)
    expect(cid.code).toBe(0x55)
    expect(cid.multihash.code).toBe(0x12)
    expect(Buffer.from(cid.multihash.digest)).toEqual(Buffer.from(sha256(bytes('meshsig/capability/v1:analysis'))))
    expect(capabilityCid('analysis').toString()).toBe(cid.toString())
    expect(capabilityCid('translation').toString()).not.toBe(cid.toString())
  })
})

describe('p2p seed addresses (ws://host:port through /health)', () => {
  let server: Server
  let seedUrl: string
  let target: Peer
  let dialer: MeshP2P | undefined
  let health: unknown

  beforeAll(async () => {
    target = await startPeer({ listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'] })
    health = { peerId: target.peerId, multiaddrs: target.node.multiaddrs().map((a) => a.replace(/\/p2p\/.*$/, '')) }
    server = createServer((req, res) => {
      if (req.url !== '/health') return void res.writeHead(404).end()
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(health))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    seedUrl = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`
  }, 60_000)

  afterAll(async () => {
    await dialer?.stop()
    await stopAll([target])
    await new Promise((resolve) => server.close(resolve))
  })

  it('resolves the seed form to /p2p/ multiaddrs and dials through it', async () => {
    const addrs = await resolveSeedAddress(seedUrl)
    expect(addrs).toHaveLength(2)
    for (const addr of addrs) expect(addr.endsWith(`/p2p/${target.peerId}`)).toBe(true)
    const other = await startPeer()
    dialer = other.node
    expect(await other.node.dial(seedUrl)).toBe(target.peerId)
  })

  it('takes a seed URL as a bootstrap entry', async () => {
    const other = await startPeer({ bootstrap: [seedUrl] })
    try {
      expect(other.node.peers().map((p) => p.peerId)).toContain(target.peerId)
    } finally {
      await stopAll([other])
    }
  })

  it('fails with INVALID_INPUT, UNREACHABLE or PEER_ERROR', async () => {
    expect(await codeOf(resolveSeedAddress('ftp://127.0.0.1:1'))).toBe('INVALID_INPUT')
    expect(await codeOf(resolveSeedAddress('ws://127.0.0.1:1'))).toBe('UNREACHABLE')
    health = { peerId: 'nope', multiaddrs: [] }
    expect(await codeOf(resolveSeedAddress(seedUrl))).toBe('PEER_ERROR')
    health = { peerId: target.peerId, multiaddrs: ['garbage'] }
    expect(await codeOf(resolveSeedAddress(seedUrl))).toBe('PEER_ERROR')
  })
})
