/**
 * The dashboard's pure logic (ui/src), without a browser: applying the
 * snapshot and incremental events, the capped event feed, formatting.
 * (The graph's styling is checked in the browser, dashboard.test.ts.)
 */
import { describe, expect, it } from 'vitest'
import { FEED_LIMIT, feedEntryOf, pushEntry, type FeedEntry } from '../../ui/src/feed.js'
import { shortDid, formatUptime } from '../../ui/src/format.js'
import { applyEvent, applySnapshot, emptyState, nameOf } from '../../ui/src/state.js'
import type { Snapshot, StreamEvent } from '../../ui/src/types.js'

const NODE = 'did:msig:NodeNodeNodeNodeNodeNodeNodeNode'
const A = 'did:msig:AaaaAaaaAaaaAaaaAaaaAaaaAaaa'
const B = 'did:msig:BbbbBbbbBbbbBbbbBbbbBbbbBbbb'

function event(type: string, data: Record<string, unknown>): StreamEvent {
  return { type, timestamp: '2026-03-13T10:00:00.000Z', data }
}

function snapshot(): Snapshot {
  return {
    node: { name: 'alpha', did: NODE, didKey: 'did:key:z6Mk', peerId: '12D3', multiaddrs: [], uptime: 42 },
    stats: {
      agents: 0,
      active: 0,
      revoked: 0,
      localAgents: 0,
      remoteAgents: 0,
      connections: 0,
      messages: 0,
      peers: 0,
      auditEntries: 3,
      uptime: 42,
    },
    agents: [],
    connections: [],
    messages: [],
    peers: [],
  }
}

describe('dashboard state', () => {
  it('starts from the snapshot and applies registrations, messages, handshakes and revocations', () => {
    const s = emptyState()
    applySnapshot(s, snapshot(), 1000)
    expect(s.node?.name).toBe('alpha')
    applyEvent(s, event('agent:registered', { did: A, name: 'a', capabilities: [{ type: 'x' }], controller: NODE }))
    applyEvent(s, event('agent:registered', { did: B, name: 'b', capabilities: [], controller: 'did:msig:Other' }))
    applyEvent(s, event('agent:registered', { did: B, name: 'b', capabilities: [], controller: 'did:msig:Other' }))
    expect(s.stats).toMatchObject({ agents: 2, active: 2, localAgents: 1, remoteAgents: 1 })
    expect(s.agents[A]?.origin).toBe('local')
    expect(s.agents[B]?.origin).toBe('remote')
    applyEvent(s, event('message:signed', { id: '1', from: A, to: B, body: 'hi' }))
    applyEvent(s, event('message:signed', { id: '2', from: A, to: B, body: 'again' }))
    applyEvent(s, event('message:signed', { id: '3', from: A, to: null, body: 'all' }))
    expect(s.stats.messages).toBe(3)
    expect(Object.values(s.links)).toEqual([{ id: `m:${A}>${B}`, from: A, to: B, kind: 'message', count: 2 }])
    expect(s.pulse).toEqual({ seq: 3, from: A, to: null })
    applyEvent(s, event('connection:established', { id: 'c', fromDid: B, toDid: A }))
    expect(s.stats.connections).toBe(1)
    applyEvent(s, event('agent:revoked', { did: B, reason: 'leak' }))
    applyEvent(s, event('agent:revoked', { did: B, reason: 'leak' }))
    expect(s.stats).toMatchObject({ active: 1, revoked: 1 })
    expect(s.agents[B]).toMatchObject({ status: 'revoked', online: false, revocationReason: 'leak' })
    expect(nameOf(s, NODE)).toBe('alpha')
    expect(nameOf(s, 'did:msig:UnknownUnknownUnknown')).toBe('did:msig:Unknow…nown')
  })

  it('tracks peers as they come and go', () => {
    const s = emptyState()
    applyEvent(s, event('peer:connected', { peerId: 'p1' }))
    applyEvent(s, event('peer:connected', { peerId: 'p2' }))
    applyEvent(s, event('peer:connected', { peerId: 'p1' }))
    applyEvent(s, event('peer:disconnected', { peerId: 'p2' }))
    expect(s.peers).toEqual(['p1'])
    expect(s.stats.peers).toBe(1)
  })
})

describe('event feed', () => {
  it('says ✓ verified for messages and shows the code of rejections', () => {
    const names = (did: string): string => ({ [A]: 'a', [B]: 'b' })[did] ?? did
    const ok = feedEntryOf(event('message:signed', { from: A, to: B, body: 'hello\nthere' }), names)
    expect(ok).toMatchObject({ tone: 'ok', badge: '✓ verified', detail: 'a → b: “hello there”' })
    const bad = feedEntryOf(event('message:rejected', { code: 'SIGNATURE_INVALID', reason: 'no', type: 'msg' }), names)
    expect(bad).toMatchObject({ tone: 'bad', badge: '✗ SIGNATURE_INVALID', title: 'Rejected msg envelope' })
    expect(feedEntryOf(event('snapshot', {}), names)).toBeUndefined()
  })

  it(`keeps the newest ${FEED_LIMIT} entries`, () => {
    const feed: FeedEntry[] = []
    for (let i = 0; i < FEED_LIMIT + 50; i++) {
      pushEntry(
        feed,
        feedEntryOf(event('peer:connected', { peerId: `p${i}` }), (d) => d)!,
      )
    }
    expect(feed).toHaveLength(FEED_LIMIT)
    expect(feed[0]!.detail).toBe(`p${FEED_LIMIT + 49}`)
  })
})

describe('formatting', () => {
  it('shortens DIDs and formats uptime', () => {
    expect(shortDid('did:msig:3icqQkmJWby4S5rpaSRoCcKvjKWdTvqViyPrCEC7Tek2')).toBe('did:msig:3icqQk…Tek2')
    expect(formatUptime(42)).toBe('42s')
    expect(formatUptime(3723)).toBe('1h 02m')
  })
})
