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
      hasGossipStream: (peer) => state.streams.has(peer),
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
  it('leaves young connections and those with a gossip stream alone', async () => {
    const { state, at } = fake('fail')
    await at(9_999)
    expect(state.identified).toEqual([])
    await at(10_000)
    expect(state.identified).toEqual(['c1'])
  })

  it('tries a failing connection three times with a doubling delay, then closes it', async () => {
    const { state, at } = fake('fail')
    for (const t of [10_000, 20_000, 29_999, 30_000, 60_000, 69_999, 70_000, 200_000, 400_000]) await at(t)
    expect(state.identified).toEqual(['c1', 'c1', 'c1'])
    expect(state.closed).toEqual(['c1'])
  })

  it('stops after one identify that shows the peer speaks no gossipsub, and closes nothing', async () => {
    const { state, at } = fake('no-gossip')
    for (const t of [10_000, 40_000, 100_000, 300_000]) await at(t)
    expect(state.identified).toEqual(['c1'])
    expect(state.closed).toEqual([])
  })

  it('stops once the stream exists, and forgets closed connections', async () => {
    const { state, at, conns } = fake('gossip')
    await at(10_000)
    state.streams.add('p1')
    await at(100_000)
    expect(state.identified).toEqual(['c1'])
    conns.splice(0, 1, { id: 'c3', remotePeer: 'p1', status: 'open', openedAt: 100_000 })
    state.streams.delete('p1')
    await at(110_000)
    expect(state.identified).toEqual(['c1', 'c3'])
    expect(state.closed).toEqual([])
  })
})
