/**
 * The dashboard's pure logic (ui/src), without a browser: applying the
 * snapshot and incremental events, snapshot pages and the registry read once
 * per connection, message pairs and their aggregation into graph edges, the
 * agents the graph draws, the capped, grouped and filtered event feed, the verifier's
 * input parsing and RFC 9162 inclusion check, formatting.
 * (The graph's drawing is checked in the browser, dashboard*.test.ts.)
 */
import { describe, expect, it } from 'vitest'
import {
  FEED_LIMIT,
  feedEntryOf,
  filterFeed,
  pushEntries,
  type FeedContext,
  type FeedEntry,
} from '../../ui/src/feed.js'
import { shortDid, formatUptime } from '../../ui/src/format.js'
import { beginAgentSync, completeAgentSync, refreshAgents } from '../../ui/src/agent-sync.js'
import { graphAgents, graphLinks, linkId } from '../../ui/src/graph-links.js'
import { applyEvent, applyLinkHistory, applySnapshot, emptyState, emptyStats, nameOf } from '../../ui/src/state.js'
import type { EventData, Snapshot, StreamEvent } from '../../ui/src/types.js'
import { checkInclusion, parseEnvelopeInput } from '../../ui/src/envelope-check.js'
import { createHash } from 'node:crypto'

const NODE = 'did:msig:NodeNodeNodeNodeNodeNodeNodeNode'
const A = 'did:msig:AaaaAaaaAaaaAaaaAaaaAaaaAaaa'
const B = 'did:msig:BbbbBbbbBbbbBbbbBbbbBbbbBbbb'
const C = 'did:msig:CcccCcccCcccCcccCcccCcccCccc'

const AT = '2026-03-13T10:00:00.000Z'

/** A node event with the fields a case needs (named as the node declares them: a renamed field fails to compile). */
function event<K extends keyof EventData>(type: K, data: Partial<EventData[K]>): StreamEvent {
  // only the fields the case reads: the rest of the event is left out on purpose
  const partial: { type: K; timestamp: string; data: Partial<EventData[K]> } = { type, timestamp: AT, data }
  return partial as unknown as StreamEvent
}

function snapshot(): Snapshot {
  return {
    node: {
      status: 'ok',
      name: 'alpha',
      did: NODE,
      didKey: 'did:key:z6Mk',
      peerId: '12D3',
      multiaddrs: [],
      uptime: 42,
      mesh: 'ready',
    },
    stats: { ...emptyStats(), auditEntries: 3, uptime: 42 },
    agents: [],
    connections: [],
    messages: [],
    peers: [],
    revoked: [],
    page: {
      limit: 50,
      agents: { total: 0, next: null },
      revoked: { total: 0, truncated: false },
      messages: { returned: 0, truncated: false },
    },
  }
}

describe('dashboard state', () => {
  it('starts from the snapshot and applies registrations, messages, handshakes and revocations', () => {
    const s = emptyState()
    applySnapshot(s, snapshot(), 1000)
    expect(s.node?.name).toBe('alpha')
    applyEvent(
      s,
      event('agent:registered', { did: A, name: 'a', capabilities: [{ type: 'x' }], controller: NODE, source: 'api' }),
    )
    applyEvent(s, event('agent:registered', { did: B, name: 'b', capabilities: [], controller: 'did:msig:Other' }))
    applyEvent(s, event('agent:registered', { did: B, name: 'b', capabilities: [], controller: 'did:msig:Other' }))
    expect(s.stats).toMatchObject({ agents: 2, active: 2, localAgents: 1, remoteAgents: 1 })
    expect(s.agents[A]?.origin).toBe('local')
    expect(s.agents[B]?.origin).toBe('remote')
    applyEvent(s, event('message:signed', { id: '1', from: A, to: B, body: 'hi' }))
    applyEvent(s, event('message:signed', { id: '2', from: A, to: B, body: 'again' }))
    applyEvent(s, event('message:signed', { id: '3', from: A, to: null, body: 'all' }))
    expect(s.stats.messages).toBe(3)
    expect(Object.values(s.pairs)).toEqual([{ from: A, to: B, count: 2, lastTs: expect.any(Number) }])
    expect(s.agents[A]?.interactionsTotal).toBe(3)
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

type Listed = Snapshot['agents'][number]

/** An agent record as the node lists it. */
function agent(did: string, patch: Partial<Listed> = {}): Listed {
  return {
    did,
    publicKey: 'key',
    name: did.slice(9, 13).toLowerCase(),
    displayName: '',
    capabilities: [],
    status: 'active',
    keySeq: 0,
    trustScore: 0.5,
    interactionsTotal: 0,
    interactionsSuccess: 0,
    online: true,
    origin: 'local',
    originServer: NODE,
    peerId: '12D3',
    createdAt: AT,
    lastSeenAt: AT,
    ...patch,
  }
}

/** A snapshot holding `agents` as one page of `total`. */
function pageOf(agents: Listed[], total: number): Snapshot {
  const s = snapshot()
  const next = agents.length < total ? String(agents.length) : null
  return { ...s, agents, page: { ...s.page, agents: { total, next } } }
}

describe('agents across snapshot pages', () => {
  it('a refresh updates the agents of its page and removes none; the registry is read once per connection', () => {
    const s = emptyState()
    const sync = beginAgentSync(s, pageOf([agent(A)], 3), 1000)
    expect(sync.complete).toBe(false)
    completeAgentSync(s, sync, [agent(A), agent(B), agent(C)])
    expect(Object.keys(s.agents)).toEqual([A, B, C])
    applyEvent(s, event('agent:revoked', { did: B, reason: 'leak' }))
    refreshAgents(s, sync, pageOf([agent(A, { trustScore: 0.9 })], 3))
    expect(Object.keys(s.agents)).toEqual([A, B, C])
    expect(s.agents[A]?.trustScore).toBe(0.9)
    expect(s.agents[B]?.status).toBe('revoked')
  })

  it('after a reconnect, keeps the agents it knew until the registry is read, then drops those it no longer holds', () => {
    const s = emptyState()
    completeAgentSync(s, beginAgentSync(s, pageOf([agent(A)], 3)), [agent(A), agent(B), agent(C)])
    const again = beginAgentSync(s, pageOf([agent(A)], 2))
    expect(Object.keys(s.agents)).toEqual([A, B, C])
    completeAgentSync(s, again, [agent(A), agent(B, { status: 'revoked' })])
    expect(Object.keys(s.agents)).toEqual([A, B])
    expect(s.agents[B]?.status).toBe('revoked')
    beginAgentSync(s, pageOf([agent(B)], 1))
    expect(Object.keys(s.agents)).toEqual([B])
  })

  it('draws at most the bound: the selected agent, those of the drawn links, local agents, then the busiest', () => {
    const s = emptyState()
    const D = 'did:msig:DdddDdddDdddDdddDdddDdddDddd'
    const E = 'did:msig:EeeeEeeeEeeeEeeeEeeeEeeeEeee'
    beginAgentSync(
      s,
      pageOf(
        [
          agent(A),
          agent(B),
          agent(C, { origin: 'remote' }),
          agent(D, { origin: 'remote', interactionsTotal: 5 }),
          agent(E),
        ],
        5,
      ),
    )
    applyEvent(s, event('message:signed', { id: '1', from: A, to: B, body: 'hi' }))
    const drawn = (selected: string | undefined, max: number): string[] =>
      graphAgents(s, graphLinks(s), selected, max).map((a) => a.did)
    expect(drawn(undefined, 5)).toHaveLength(5)
    expect(drawn(C, 3)).toEqual([C, A, B])
    expect(drawn(undefined, 3)).toEqual([A, B, E])
    expect(drawn(undefined, 4)).toEqual([A, B, E, D])
  })
})

describe('graph edges from history', () => {
  it('merges both directions of a pair into one edge, keeps the most recent pairs, adds handshakes', () => {
    const s = emptyState()
    applySnapshot(s, snapshot(), 1000)
    for (const [did, name] of [
      [A, 'a'],
      [B, 'b'],
      [C, 'c'],
    ] as const)
      applyEvent(s, event('agent:registered', { did, name, capabilities: [], controller: NODE }))
    applyLinkHistory(s, {
      links: [
        { from: A, to: B, count: 5, lastTs: 100 },
        { from: B, to: A, count: 2, lastTs: 300 },
        { from: A, to: C, count: 1, lastTs: 200 },
        { from: A, to: 'did:msig:NotKnownNotKnown', count: 9, lastTs: 900 },
      ],
      total: 4,
      messages: 17,
    })
    applyEvent(s, event('connection:established', { fromDid: B, toDid: C }))
    const links = graphLinks(s)
    expect(links.map((l) => l.id)).toEqual([linkId(A, B), linkId(A, C), linkId(B, C)])
    const ab = links[0]!
    expect(ab.ab + ab.ba).toBe(7)
    expect(links[2]).toMatchObject({ handshake: true, ab: 0, ba: 0 })
    expect(
      graphLinks(s, 1)
        .filter((l) => !l.handshake)
        .map((l) => l.id),
    ).toEqual([linkId(A, B)])
  })
})

const NAMES: Record<string, string> = { [A]: 'a', [B]: 'b' }
function ctx(known: string[] = []): FeedContext {
  return { nameOf: (did) => NAMES[did] ?? did, peerNameOf: (p) => `peer ${p}`, known: (did) => known.includes(did) }
}

describe('event feed', () => {
  it('says ✓ verified for messages and shows the code and claimed sender of rejections', () => {
    const ok = feedEntryOf(event('message:signed', { id: 'm1', from: A, to: B, body: 'hello\nthere' }), ctx())
    expect(ok).toMatchObject({ tone: 'ok', badge: '✓ verified', detail: 'a → b: “hello there”', messageId: 'm1' })
    const forged = { code: 'SIGNATURE_INVALID', reason: 'no', type: 'msg', source: 'api', claimed: A }
    const bad = feedEntryOf(event('message:rejected', forged), ctx())
    expect(bad).toMatchObject({ tone: 'bad', badge: '✗ SIGNATURE_INVALID', kind: 'rejection', dids: [A] })
    expect(bad?.detail).toContain('claimed sender a')
    const dup = feedEntryOf(event('message:rejected', { code: 'DUPLICATE', reason: 'stored', source: 'api' }), ctx())
    expect(dup?.title).toBe('Refused a duplicate')
    expect(feedEntryOf({ type: 'snapshot', timestamp: AT, data: snapshot() }, ctx())).toBeUndefined()
  })

  it('words a renewed registration of a known agent apart from a new agent', () => {
    const reg = event('agent:registered', { did: A, name: 'a', capabilities: [], controller: NODE })
    expect(feedEntryOf(reg, ctx())?.title).toBe('Agent registered')
    expect(feedEntryOf(reg, ctx([A]))?.title).toBe('Registration renewed')
  })

  it(`groups repeated events with a count and keeps the newest ${FEED_LIMIT} entries`, () => {
    const same = (): FeedEntry => feedEntryOf(event('peer:connected', { peerId: 'p' }), ctx())!
    expect(pushEntries([], [same(), same(), same()])).toMatchObject([{ count: 3 }])
    let feed: FeedEntry[] = []
    for (let i = 0; i < FEED_LIMIT + 50; i++)
      feed = pushEntries(feed, [feedEntryOf(event('peer:connected', { peerId: `p${i}` }), ctx())!])
    expect(feed).toHaveLength(FEED_LIMIT)
    expect(feed[0]!.detail).toBe(`peer p${FEED_LIMIT + 49}`)
  })

  it('filters by rejections, agent, kind and text', () => {
    const feed = pushEntries(
      [],
      [
        feedEntryOf(event('message:signed', { from: A, to: B, body: 'alpha' }), ctx())!,
        feedEntryOf(event('message:rejected', { code: 'REPLAY', source: 'api', claimed: B }), ctx())!,
        feedEntryOf(event('peer:connected', { peerId: 'p' }), ctx())!,
      ],
    )
    const none = { rejectionsOnly: false, agent: '', kind: '', search: '' } as const
    expect(filterFeed(feed, { ...none, rejectionsOnly: true }).map((e) => e.badge)).toEqual(['✗ REPLAY'])
    expect(filterFeed(feed, { ...none, agent: A }).map((e) => e.kind)).toEqual(['message'])
    expect(filterFeed(feed, { ...none, kind: 'peer' })).toHaveLength(1)
    expect(filterFeed(feed, { ...none, search: 'ALPHA' })).toHaveLength(1)
  })
})

describe('verifier logic', () => {
  it('reads a message id, an envelope or a stored message', () => {
    expect(parseEnvelopeInput('AB'.repeat(32))).toEqual({ kind: 'id', id: 'ab'.repeat(32) })
    expect(parseEnvelopeInput('{"type":"msg","sig":"x"}')).toMatchObject({ kind: 'envelope' })
    expect(parseEnvelopeInput('{"envelope":{"type":"msg"}}')).toEqual({ kind: 'envelope', envelope: { type: 'msg' } })
    expect(parseEnvelopeInput('hello').kind).toBe('error')
  })

  it('checks RFC 9162 inclusion proofs of a small tree', async () => {
    const h = (...parts: Buffer[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest()
    const leaves = [0, 1, 2, 3, 4].map((i) => h(Buffer.from([0]), Buffer.from(`entry ${i}`)))
    const node = (l: Buffer, r: Buffer): Buffer => h(Buffer.from([1]), l, r)
    const n01 = node(leaves[0]!, leaves[1]!)
    const n23 = node(leaves[2]!, leaves[3]!)
    const root = node(node(n01, n23), leaves[4]!)
    const b64 = (b: Buffer): string => b.toString('base64')
    // PATH(2, D[5]) = [leaf 3, n01, leaf 4]
    const path = [leaves[3]!, n01, leaves[4]!].map(b64)
    expect(await checkInclusion(2, 5, b64(leaves[2]!), path, b64(root))).toBe(true)
    expect(await checkInclusion(4, 5, b64(leaves[4]!), [b64(node(n01, n23))], b64(root))).toBe(true)
    expect(await checkInclusion(3, 5, b64(leaves[2]!), path, b64(root))).toBe(false)
  })
})

describe('formatting', () => {
  it('shortens DIDs and formats uptime', () => {
    expect(shortDid('did:msig:3icqQkmJWby4S5rpaSRoCcKvjKWdTvqViyPrCEC7Tek2')).toBe('did:msig:3icqQk…Tek2')
    expect(formatUptime(42)).toBe('42s')
    expect(formatUptime(3723)).toBe('1h 02m')
  })
})
