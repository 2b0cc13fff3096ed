// A descent whose walk (fingerprint and id-list exchanges before its first fetch) takes longer than
// one slice of the node-wide sync turn (docs/protocol.md §9, decision 0040). Found by the attack
// review of b7f5c99: each slice restarted the descent from the root and was cut before its first
// fetch while another round waited, so the round fetched nothing, spent its round time and its
// honest peer was left alone (backoff doubling). A descent now goes on where its slice ended.
// Time-scaled: slices of 50 ms, 20 ms per exchange.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Envelope } from '../../../node/core/index.js'
import { CarriedDescents, DEFAULT_SYNC_BUDGET, MAX_CARRIED_DESCENTS } from '../../../node/services/sync-client.js'
import { SyncTurns } from '../../../node/services/sync-turns.js'
import { FakeNetwork } from '../../helpers/fake-p2p.js'
import { syncNode as syncNodeOn, type SyncNode } from '../../helpers/sync-node.js'
import { FixedClock, kitAgent } from '../../helpers/service-kit.js'

let net: FakeNetwork
let clock: FixedClock
let a: SyncNode
let b: SyncNode
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const SLICE = 50
const LATENCY = 20 // per exchange: 4 exchanges before the first fetch > one slice
const budget = { ...DEFAULT_SYNC_BUDGET, roundMs: 10_000, sliceMs: SLICE }

/** A node on this test's mesh and clock, with slices of SLICE ms. */
const syncNode = (seed: string): SyncNode => syncNodeOn(net, clock, seed, { budget })

beforeEach(() => {
  net = new FakeNetwork()
  clock = new FixedClock()
  a = syncNode('node a')
  b = syncNode('node b')
  net.connect(a.p2p, b.p2p)
  // a holds 2,000 agents, b the first 1,600 (80 %: b descends) and a's own key log
  const all: Envelope[][] = []
  for (let i = 0; i < 2_000; i++) {
    const ag = kitAgent(a.kit.random, clock.ms, { controller: a.kit.did, peerId: a.kit.peerId, name: `agent-${i}` })
    all.push([ag.icp, ag.reg])
  }
  for (const [i, pair] of all.entries())
    for (const n of i < 1_600 ? [a, b] : [a])
      for (const e of pair) expect(n.kit.ingest.ingest(e, { kind: 'local' }, { fresh: false }).ok).toBe(true)
  b.kit.ingest.ingest(a.kit.store.keyEvents.log(a.kit.did)[0]!, { kind: 'local' }, { fresh: false })
  const send = b.p2p.sync.bind(b.p2p)
  b.p2p.sync = async (...args) => {
    await sleep(LATENCY) // an honest peer a round trip away
    return send(...args)
  }
})
afterEach(() => {
  a.kit.close()
  b.kit.close()
})

/** A rogue round: quick empty passes, always more, queued again at the end of each slice. */
function rogue(turns: SyncTurns, done: () => boolean): Promise<void> {
  return turns.run(async (s) => {
    while (!done()) {
      await sleep(5)
      if (s.due(false) && !(await s.requeue(false))) break
    }
  })
}

describe('a descent longer than a slice of the sync turn', () => {
  it('alone, it is never cut and converges', async () => {
    const turns = new SyncTurns({ sliceMs: SLICE })
    const r = await turns.run((s) => b.sync.client.round(a.kit.peerId, s))
    expect(r).toMatchObject({ accepted: 800, passes: 1 })
    expect(b.sync.index.fingerprint('')).toEqual(a.sync.index.fingerprint(''))
  })

  it('with a rogue round waiting at every slice, it goes on where each slice ended and converges', async () => {
    const turns = new SyncTurns({ sliceMs: SLICE })
    let done = false
    const honest = turns.run((s) => b.sync.client.round(a.kit.peerId, s))
    const bad = rogue(turns, () => done)
    const r = await honest
    done = true
    await bad
    expect(r).toMatchObject({ accepted: 800, rejected: 0 })
    expect(r!.passes).toBeGreaterThan(1) // it was cut, and went on
    expect(b.sync.index.fingerprint('')).toEqual(a.sync.index.fingerprint(''))
    expect(b.sync.client.isQuiet(a.kit.peerId)).toBe(false)
  })

  it('two honest peers that interrupt each other both converge, neither left alone', async () => {
    const c = syncNode('node c')
    net.connect(c.p2p, b.p2p)
    // c holds what a holds
    for (const did of a.kit.store.keyEvents.allDids())
      for (const e of a.kit.store.keyEvents.log(did)) c.kit.ingest.ingest(e, { kind: 'local' }, { fresh: false })
    for (const ag of a.kit.store.agents.list())
      c.kit.ingest.ingest(JSON.parse(ag.regEnvelope) as Envelope, { kind: 'local' }, { fresh: false })
    b.kit.ingest.ingest(c.kit.store.keyEvents.log(c.kit.did)[0]!, { kind: 'local' }, { fresh: false })
    const turns = new SyncTurns({ sliceMs: SLICE })
    const [ra, rc] = await Promise.all([a, c].map((n) => turns.run((s) => b.sync.client.round(n.kit.peerId, s))))
    expect(ra!.accepted + rc!.accepted).toBe(800)
    expect(b.sync.index.fingerprint('')).toEqual(a.sync.index.fingerprint(''))
    expect([a, c].filter((n) => b.sync.client.isQuiet(n.kit.peerId))).toEqual([])
    c.kit.close()
  })

  it('a round whose peer left while it waited for the turn asks it nothing more', async () => {
    const turns = new SyncTurns({ sliceMs: SLICE })
    let done = false
    let asked = -1 // requests to the peer when it left
    const honest = turns.run((s) => b.sync.client.round(a.kit.peerId, s))
    const bad = turns.run(async (s) => {
      while (!done) {
        await sleep(5)
        if (s.due(false)) {
          if (asked < 0) {
            asked = b.p2p.syncsSent.length
            net.disconnect(a.kit.peerId, b.kit.peerId) // the peer leaves while the honest round waits
          }
          if (!(await s.requeue(false))) break
        }
      }
    })
    await honest
    done = true
    await bad
    expect(asked).toBeGreaterThan(0)
    expect(b.sync.index.fingerprint('')).not.toEqual(a.sync.index.fingerprint(''))
    expect(b.p2p.syncsSent).toHaveLength(asked) // nothing asked once it left
    expect(b.sync.client.isQuiet(a.kit.peerId)).toBe(false) // leaving is no slowness
  })
})

describe('the descents rounds keep while they wait for the turn', () => {
  it(`are at most ${MAX_CARRIED_DESCENTS}: past that, the oldest waiting round's descent restarts`, () => {
    const carried = new CarriedDescents()
    const descent = () => ({ frontier: [''], leaves: [], guesses: new Map(), missing: [], truncated: false })
    const carries = Array.from({ length: MAX_CARRIED_DESCENTS + 2 }, () => ({ descent: descent() }))
    for (const c of carries) carried.keep(c)
    expect(carries.map((c) => c.descent === undefined).filter(Boolean)).toHaveLength(2)
    expect(carries[0]!.descent).toBeUndefined()
    expect(carries[1]!.descent).toBeUndefined()
    carried.drop(carries[2]!) // a round that ended frees its place
    const late = { descent: descent() }
    carried.keep(late)
    expect(carries[3]!.descent).toBeDefined()
    expect(late.descent).toBeDefined()
  })
})
