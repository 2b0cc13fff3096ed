/**
 * Sync sessions (docs/protocol.md §9, "Streams") between real libp2p nodes:
 * a node's requests to one peer share one stream; a session the server
 * closed (idle) is reopened without the caller seeing a failure; a broken
 * answer ends its session and the next request gets a fresh stream; a
 * one-request stream (request-response's `exchange`) is still served.
 */
import type { Libp2p, Stream } from '@libp2p/interface'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SYNC_PROTOCOL, encodeSyncRequest } from '../../node/p2p/index.js'
import { DEFAULT_EXCHANGE_LIMITS, exchange } from '../../node/p2p/request-response.js'
import { waitFor } from '../helpers/wait-for.js'
import { bytes, startPeer, stopAll, type Peer } from './p2p-fixture.js'

const libp2pOf = (p: Peer): Libp2p => (p.node as unknown as { libp2p: Libp2p }).libp2p

/** Open sync streams on `p`'s connections to `other`, inbound or outbound. */
function syncStreams(p: Peer, other: Peer, direction: 'inbound' | 'outbound'): Stream[] {
  return libp2pOf(p)
    .getConnections()
    .filter((c) => c.remotePeer.toString() === other.peerId)
    .flatMap((c) => c.streams)
    .filter((s) => s.protocol === SYNC_PROTOCOL && s.direction === direction && s.status === 'open')
}

describe('sync sessions', () => {
  let a: Peer
  let b: Peer

  beforeAll(async () => {
    a = await startPeer({ transports: 'memory' })
    b = await startPeer({ transports: 'memory', bootstrap: [a.node.multiaddrs()[0]!] })
    await waitFor(() => b.node.peers().some((p) => p.peerId === a.peerId), { timeout: 20_000 })
  }, 60_000)

  afterAll(async () => {
    await stopAll([a, b])
  })

  it('carries a node’s requests to one peer over one stream, each answered in full', async () => {
    for (let i = 0; i < 5; i++) {
      a.syncItems = Array.from({ length: i + 1 }, (_, k) => bytes(`item-${i}-${k}`))
      const got = await b.node.sync(a.peerId, { kind: 'fp', prefixes: [''] })
      expect(got.map((g) => new TextDecoder().decode(g))).toEqual(a.syncItems.map((x) => new TextDecoder().decode(x)))
    }
    expect(syncStreams(a, b, 'inbound')).toHaveLength(1)
    expect(syncStreams(b, a, 'outbound')).toHaveLength(1)
  })

  it('reopens a session the serving node closed, without failing the request', async () => {
    await b.node.sync(a.peerId, { kind: 'fp', prefixes: [''] })
    const [served] = syncStreams(a, b, 'inbound')
    await served!.close() // as the server does after SESSION_IDLE_MS without a request
    a.syncItems = [bytes('after-close')]
    const got = await b.node.sync(a.peerId, { kind: 'fp', prefixes: [''] })
    expect(new TextDecoder().decode(got[0])).toBe('after-close')
    expect(syncStreams(a, b, 'inbound').filter((s) => s !== served)).toHaveLength(1)
  })

  it('ends a session whose answer broke the limits; the next request opens a fresh one', async () => {
    await b.node.sync(a.peerId, { kind: 'fp', prefixes: [''] })
    const [before] = syncStreams(b, a, 'outbound')
    a.syncItems = Array.from({ length: 10 }, () => bytes('x'))
    const over = b.node.sync(a.peerId, { kind: 'fp', prefixes: [''] }, { limits: { maxItems: 3, maxBytes: 1000 } })
    await expect(over).rejects.toMatchObject({ code: 'PEER_ERROR', details: { over: 'items' } })
    a.syncItems = [bytes('fresh')]
    expect(await b.node.sync(a.peerId, { kind: 'fp', prefixes: [''] })).toHaveLength(1)
    const [after] = syncStreams(b, a, 'outbound')
    expect(after).toBeDefined()
    expect(after).not.toBe(before)
  })

  it('serves a one-request stream (the requester half-closes) and closes it after the answer', async () => {
    await b.node.sync(a.peerId, { kind: 'fp', prefixes: [''] })
    const session = syncStreams(a, b, 'inbound')
    a.syncItems = [bytes('one'), bytes('shot')]
    const request = encodeSyncRequest({ kind: 'ids', prefixes: ['0'] })
    const got = await exchange(libp2pOf(b), a.peerId, SYNC_PROTOCOL, request, DEFAULT_EXCHANGE_LIMITS)
    expect(got.map((g) => new TextDecoder().decode(g))).toEqual(['one', 'shot'])
    const open = (): Stream[] => syncStreams(a, b, 'inbound')
    await waitFor(() => open().length === 1 && open()[0] === session[0], { timeout: 5_000, message: 'one-shot closed' })
  })
})
