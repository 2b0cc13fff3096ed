/**
 * What text from the network can do to the dashboard (attack review of the
 * dashboard, stop 36), in its pure logic (ui/src), without a browser:
 * a refusal's reason may repeat whatever a sender wrote (900,000 characters
 * in one feed line before), a name may carry bidirectional controls that
 * redraw the rest of a line backwards, and a peer's agent may name this node
 * as its controller to be drawn as one of its own.
 */
import { describe, expect, it } from 'vitest'
import { DETAIL_CHARS, feedEntryOf, type FeedContext } from '../../ui/src/feed.js'
import { plainText } from '../../ui/src/format.js'
import { agentNode } from '../../ui/src/graph-nodes.js'
import { applyEvent, applySnapshot, emptyState, emptyStats, nameOf, nameParts } from '../../ui/src/state.js'
import type { EventData, Snapshot, StreamEvent } from '../../ui/src/types.js'

const NODE = 'did:msig:NodeNodeNodeNodeNodeNodeNodeNode'
const A = 'did:msig:AaaaAaaaAaaaAaaaAaaaAaaaAaaa'
const B = 'did:msig:BbbbBbbbBbbbBbbbBbbbBbbbBbbb'
const RLO = '\u202e'

function event<K extends keyof EventData>(type: K, data: Partial<EventData[K]>): StreamEvent {
  // only the fields the case reads: the rest of the event is left out on purpose
  return { type, timestamp: '2026-12-06T10:00:00.000Z', data } as unknown as StreamEvent
}

function snapshot(): Snapshot {
  return {
    node: { status: 'ok', name: 'alpha', did: NODE, didKey: 'did:key:z6Mk', peerId: '12D3', multiaddrs: [], uptime: 1 },
    stats: emptyStats(),
    agents: [],
    connections: [],
    messages: [],
    peers: [],
    revoked: [],
  } as unknown as Snapshot
}

const ctx = (names: Record<string, string>): FeedContext => ({
  nameOf: (did) => names[did] ?? did,
  peerNameOf: (p) => p,
  known: () => false,
})

describe('text from the network in the feed', () => {
  it('a refusal reason of any length makes a line of bounded length', () => {
    const reason = `Unrecognized key: "${'W'.repeat(900_000)}"`
    const e = feedEntryOf(event('message:rejected', { code: 'MALFORMED', reason, type: 'msg', source: 'api' }), ctx({}))
    expect(e!.detail.length).toBeLessThanOrEqual(DETAIL_CHARS)
    expect(e!.detail).toMatch(/^Unrecognized key: "W+…/)
    const revoked = feedEntryOf(event('agent:revoked', { did: A, reason: 'r'.repeat(50_000) }), ctx({ [A]: 'a' }))
    expect(revoked!.detail.length).toBeLessThanOrEqual(DETAIL_CHARS)
  })

  it('a name with bidirectional or control characters cannot reorder the rest of its line', () => {
    const names = { [A]: `mallory${RLO}`, [B]: 'bob\u2066x\u0007' }
    const e = feedEntryOf(event('message:signed', { id: 'm', from: A, to: B, body: `hi${RLO}there\u2069` }), ctx(names))
    expect(e!.detail).toBe('mallory\ufffd → bob\ufffdx\ufffd: “hi\ufffdthere\ufffd”')
    expect(e!.title).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/)
    // and the state's names, as the graph's labels and tooltips read them through nameOf (the table, the
    // feed's filter and the drawer do too: their browser test is ui-untrusted-text.test.ts)
    const s = emptyState()
    applySnapshot(s, snapshot())
    applyEvent(s, event('agent:registered', { did: A, name: `evil${RLO}gpj.exe`, controller: 'x', source: 'gossip' }))
    expect(nameOf(s, A)).toBe('evil\ufffdgpj.exe')
    const drawn = agentNode(s.agents[A]!, (did) => nameOf(s, did))
    expect(drawn.label).toBe('evil\ufffdgpj.exe')
    expect(String(drawn.title).split('\n').slice(0, 2)).toEqual([A, 'evil\ufffdgpj.exe'])
    expect(plainText('plain names stay — as they are: ✓ é 漢字 🙂')).toBe('plain names stay — as they are: ✓ é 漢字 🙂')
    // text nobody sees on the page (tag characters, a variation selector after a letter) shows as U+FFFD; an emoji's stays
    const tagged = [...'hi'].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('')
    expect(plainText(`ok${tagged}a\ufe0fb \u2764\ufe0f`)).toBe('ok\ufffd\ufffda\ufffdb \u2764\ufe0f')
  })
})

describe('a peer naming this node as its controller', () => {
  it('is drawn as remote until the node says otherwise; an agent registered here is local', () => {
    const s = emptyState()
    applySnapshot(s, snapshot())
    applyEvent(s, event('agent:registered', { did: A, name: 'claims-us', controller: NODE, source: 'gossip' }))
    applyEvent(s, event('agent:registered', { did: B, name: 'ours', controller: NODE, source: 'api' }))
    expect(s.agents[A]).toMatchObject({ origin: 'remote', online: false })
    expect(s.agents[B]).toMatchObject({ origin: 'local', online: true })
    expect(s.stats).toMatchObject({ localAgents: 1, remoteAgents: 1 })
  })
})

describe('names that could pass for another agent', () => {
  const C = 'did:msig:CcccCcccCcccCcccCcccCcccCccc'
  const D = 'did:msig:DdddDdddDdddDdddDdddDdddDddd'
  const E = 'did:msig:EeeeEeeeEeeeEeeeEeeeEeeeEeee'
  const reg = (did: string, name: string): StreamEvent =>
    event('agent:registered', { did, name, controller: 'x', source: 'gossip' })

  it('are shown with the short DID: a shared name (as a reader sees it), the node’s name, a DID', () => {
    const s = emptyState()
    applySnapshot(s, snapshot())
    applyEvent(s, reg(A, 'planner'))
    expect(nameOf(s, A)).toBe('planner')
    applyEvent(s, reg(B, 'Plan\u200bner')) // an impostor: invisible character, another case
    expect(nameOf(s, A)).toBe('planner\n(did:msig:AaaaAa…Aaaa)')
    expect(nameOf(s, B)).toBe('Plan\ufffdner\n(did:msig:BbbbBb…Bbbb)')
    applyEvent(s, reg(C, 'ALPHA')) // this node's name
    expect(nameOf(s, C)).toBe('ALPHA\n(did:msig:CcccCc…Cccc)')
    applyEvent(s, reg(D, 'did:msig:AaaaAa…Aaaa'))
    expect(nameOf(s, D)).toBe('did:msig:AaaaAa…Aaaa\n(did:msig:DdddDd…Dddd)')
    applyEvent(s, reg(E, 'ops'))
    expect(nameOf(s, E)).toBe('ops')
    // the impostor renames itself: the planner is alone again
    applyEvent(s, reg(B, 'someone-else'))
    expect(nameOf(s, A)).toBe('planner')
    // and the feed says who is who
    const names: FeedContext = { nameOf: (did) => nameParts(s, did), peerNameOf: (p) => p, known: () => true }
    applyEvent(s, reg(B, 'planner'))
    const line = feedEntryOf(event('message:signed', { id: 'm', from: B, to: E, body: 'deploy approved' }), names)
    expect(line!.detail).toBe('planner (did:msig:BbbbBb…Bbbb) → ops: “deploy approved”')
    expect(line!.parts).toEqual([{ name: 'planner', tag: 'did:msig:BbbbBb…Bbbb' }, ' → ops: “deploy approved”'])
  })
})

describe('handshakes across snapshot pages', () => {
  it('a snapshot whose page holds only the newest handshakes takes none of the older ones away', () => {
    const s = emptyState()
    const conn = (id: string, fromDid: string, toDid: string): unknown => ({ id, fromDid, toDid })
    applySnapshot(s, { ...snapshot(), connections: [conn('1', A, B)] } as unknown as Snapshot)
    applySnapshot(s, { ...snapshot(), connections: [conn('2', B, NODE)] } as unknown as Snapshot)
    expect(Object.keys(s.handshakes).length).toBe(2)
  })
})
