/**
 * The identify watch's rules (node/p2p/identify-watch.ts, docs/protocol.md
 * §9) with a fake libp2p view and clock: which connections it identifies
 * again, how often, and when it closes one.
 */
import { describe, expect, it } from 'vitest'
import { IdentifyWatch, type WatchedConnection } from '../../node/p2p/identify-watch.js'

const INIT = { sweepMs: 1_000, graceMs: 10_000, maxAttempts: 3 }

/** A fake libp2p view: connections, which peers have a gossip stream, and identify's outcome. */
function fake(outcome: 'fail' | 'gossip' | 'no-gossip') {
  const state = { now: 0, identified: [] as string[], closed: [] as string[], streams: new Set<string>() }
  const conns: WatchedConnection[] = [
    { id: 'c1', remotePeer: 'p1', status: 'open', openedAt: 0 },
    { id: 'c2', remotePeer: 'p2', status: 'open', openedAt: 0 },
  ]
  state.streams.add('p2') // gossip attached to p2: never touched
  const watch = new IdentifyWatch(
    {
      connections: () => conns,
      hasGossipStreams: (peer) => state.streams.has(peer),
      identify: (id) => {
        state.identified.push(id)
        return outcome === 'fail' ? Promise.reject(new Error('timeout')) : Promise.resolve(outcome === 'gossip')
      },
      close: (id) => {
        state.closed.push(id)
        return Promise.resolve()
      },
      clock: () => state.now,
    },
    INIT,
  )
  const at = async (ms: number) => {
    state.now = ms
    watch.sweep()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return { state, at, conns }
}

describe('identify watch', () => {
  it('leaves young connections and those with gossip both ways alone', async () => {
    const { state, at } = fake('fail')
    await at(9_999)
    expect(state.identified).toEqual([])
    await at(10_000)
    expect(state.identified).toEqual(['c1'])
  })

  it('identifies a broken connection three times, 10 s apart, then closes it', async () => {
    const { state, at } = fake('gossip') // identify succeeds, yet the streams do not come
    for (const t of [10_000, 15_000, 19_999, 20_000, 30_000, 39_999]) await at(t)
    expect(state.identified).toEqual(['c1', 'c1', 'c1'])
    expect(state.closed).toEqual([])
    for (const t of [40_000, 50_000, 100_000]) await at(t)
    expect(state.identified).toEqual(['c1', 'c1', 'c1'])
    expect(state.closed).toEqual(['c1'])
  })

  it('closes a connection identify keeps failing on the same way', async () => {
    const { state, at } = fake('fail')
    for (const t of [10_000, 20_000, 30_000, 40_000]) await at(t)
    expect(state.identified).toEqual(['c1', 'c1', 'c1'])
    expect(state.closed).toEqual(['c1'])
  })

  it('stops after one identify that shows the peer speaks no gossipsub, and closes nothing', async () => {
    const { state, at } = fake('no-gossip')
    for (const t of [10_000, 40_000, 100_000, 300_000]) await at(t)
    expect(state.identified).toEqual(['c1'])
    expect(state.closed).toEqual([])
  })

  it('starts a fresh count once the streams came, and forgets closed connections', async () => {
    const { state, at, conns } = fake('gossip')
    await at(10_000)
    await at(20_000)
    state.streams.add('p1')
    await at(30_000)
    state.streams.delete('p1') // broken again later: three new attempts before any close
    for (const t of [40_000, 50_000, 60_000]) await at(t)
    expect(state.identified).toEqual(['c1', 'c1', 'c1', 'c1', 'c1'])
    expect(state.closed).toEqual([])
    conns.splice(0, 1, { id: 'c3', remotePeer: 'p1', status: 'open', openedAt: 60_000 })
    await at(70_000)
    expect(state.identified.at(-1)).toBe('c3')
  })
})
