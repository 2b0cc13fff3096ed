/**
 * A name spelled like the way another agent's name is told apart (attack
 * review 87): `planner (did:msig:3icqQk…Tek2)` was how the dashboard showed a
 * planner that shared its name, as plain text, so an agent could take that
 * very text as its name and read exactly like the real planner. Now the short
 * DID is never part of a name's text: a tag of its own (`nameParts`), an
 * element in HTML, a line of its own on the canvas (`nameOf`), which no name
 * can write; and a name that holds `did:` always gets its own agent's tag.
 */
import { describe, expect, it } from 'vitest'
import { feedEntryOf, type FeedContext } from '../../../ui/src/feed.js'
import { plainText, shortDid } from '../../../ui/src/format.js'
import { applySnapshot, emptyState, emptyStats, nameOf, nameParts } from '../../../ui/src/state.js'
import type { Agent, Snapshot, StreamEvent } from '../../../ui/src/types.js'

const P = 'did:msig:3icqQkmJPlannerPlannerPlannerPlannerTek2'
const B = 'did:msig:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB'
const C = 'did:msig:CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC'
const agent = (did: string, name: string): Agent =>
  ({ did, name, capabilities: [], status: 'active', origin: 'remote', originServer: 'x' }) as unknown as Agent

function stateOf(agents: Agent[]): ReturnType<typeof emptyState> {
  const node = { status: 'ok', name: 'alpha', did: 'did:msig:NodeNode', peerId: '12D3', multiaddrs: [], uptime: 1 }
  const page = { limit: 1000, agents: { total: agents.length, next: null } }
  const s = emptyState()
  applySnapshot(s, { node, stats: emptyStats(), agents, connections: [], peers: [], page } as unknown as Snapshot)
  return s
}

describe('a name spelled like the way another name is told apart', () => {
  const imitation = `planner (${shortDid(P)})`

  it('two planners and an imitation of the first: each told apart by a tag of its own DID', () => {
    const s = stateOf([agent(P, 'planner'), agent(B, 'planner'), agent(C, imitation)])
    expect(nameParts(s, P)).toEqual({ name: 'planner', tag: shortDid(P) })
    expect(nameParts(s, C)).toEqual({ name: imitation, tag: shortDid(C) })
    expect(nameOf(s, P)).toBe(`planner\n(${shortDid(P)})`)
    expect(nameOf(s, C)).toBe(`${imitation}\n(${shortDid(C)})`)
    expect(nameOf(s, C)).not.toBe(nameOf(s, P))
  })

  it('a lone planner: the imitation is shown with the tag of its own DID', () => {
    const s = stateOf([agent(P, 'planner'), agent(C, imitation)])
    expect(nameParts(s, P)).toEqual({ name: 'planner' })
    expect(nameOf(s, C).endsWith(`\n(${shortDid(C)})`)).toBe(true)
  })

  it('no name writes the line a tag is on: a newline in a name is U+FFFD', () => {
    const s = stateOf([agent(P, 'planner'), agent(B, 'planner'), agent(C, `planner\n(${shortDid(P)})`)])
    expect(nameOf(s, C)).toBe(`planner\ufffd(${shortDid(P)})\n(${shortDid(C)})`)
    expect(plainText('a\nb\r\u2028c')).not.toMatch(/[\n\r\u2028]/)
  })

  it('"did:" anywhere in a name, as a reader sees it, is told apart', () => {
    for (const name of ['x DID:msig:abc', 'planner (d\u200bid:x)', 'ｄｉｄ：x', 'a did: b']) {
      expect(nameParts(stateOf([agent(C, name)]), C).tag, name).toBe(shortDid(C))
    }
    // past the part of a name its key is made of too (NFKC writes U+FDFA as 18 characters)
    expect(nameParts(stateOf([agent(C, `${'\ufdfa'.repeat(20)} did:x`)]), C).tag).toBe(shortDid(C))
    expect(nameParts(stateOf([agent(C, 'planner (did')]), C).tag).toBeUndefined()
  })

  it('"did:" spelled with lookalike letters or colons is told apart (attack review 90 F3)', () => {
    // a Cyrillic і, a Cyrillic ԁ, a RATIO ∶, a MODIFIER LETTER TRIANGULAR COLON ː, a Greek ι
    // review 94: ᑯ (Canadian Syllabics), Devanagari and Gujarati visargas, 𑣃 (Warang Citi)
    const more = ['\u146fid:msig:3icq', 'did\u0903msig', 'did\u0a83msig', 'd\u{118c3}d:msig', '\u146fid\u0903x']
    for (const name of [
      'planner (d\u0456d:msig:3icq)',
      '\u0501\u0456\u0501\u2236x',
      'did\u02d0x',
      'd\u03b9d:x',
      ...more,
    ]) {
      expect(nameParts(stateOf([agent(C, name)]), C).tag, name).toBe(shortDid(C))
    }
  })

  it('a name mixing scripts whose letters look alike is told apart; one script is not', () => {
    // `plаnner` with a Cyrillic а, alone on the page: it could be taken for the real planner's name elsewhere
    expect(nameParts(stateOf([agent(C, 'pl\u0430nner')]), C).tag).toBe(shortDid(C))
    expect(nameParts(stateOf([agent(C, 'agent \u03b1')]), C).tag).toBe(shortDid(C))
    for (const name of ['planner', '\u043f\u043b\u0430\u043d', '\u03b1\u03b2\u03b3', 'agent 助手', 'エージェント']) {
      expect(nameParts(stateOf([agent(C, name)]), C).tag, name).toBeUndefined()
    }
  })

  it('the feed: a name and its tag are separate parts, the tag never text of the line', () => {
    const s = stateOf([agent(P, 'planner'), agent(B, 'planner'), agent(C, imitation)])
    const ctx: FeedContext = { nameOf: (did) => nameParts(s, did), peerNameOf: (p) => p, known: () => true }
    const sent = (from: string): StreamEvent =>
      ({ type: 'message:signed', timestamp: '', data: { id: 'm', from, to: null, body: 'go' } }) as StreamEvent
    expect(feedEntryOf(sent(P), ctx)!.parts).toEqual([{ name: 'planner', tag: shortDid(P) }, ' → everyone: “go”'])
    expect(feedEntryOf(sent(C), ctx)!.parts).toEqual([{ name: imitation, tag: shortDid(C) }, ' → everyone: “go”'])
  })
})
