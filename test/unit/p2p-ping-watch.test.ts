// The ping watch (node/p2p/ping-watch.ts, docs/protocol.md §9, decision 0038) on a fake node: a connection
// is closed only after `maxFailures` failed pings in a row; an answer in between starts the count afresh;
// a connection still waiting for its ping gets no second one; closed connections are forgotten.
import { describe, expect, it } from 'vitest'
import { PingWatch, type PingedConnection, type PingWatchComponents } from '../../node/p2p/ping-watch.js'

interface Fake extends PingWatchComponents {
  conns: PingedConnection[]
  answers: Map<string, boolean>
  aborted: string[]
  pings: string[]
  hold: boolean
  release: () => void
}

function fake(): Fake {
  let waiting: (() => void)[] = []
  const f: Fake = {
    conns: [{ id: 'c1', remotePeer: 'p1', status: 'open' }],
    answers: new Map(),
    aborted: [],
    pings: [],
    hold: false,
    release: () => {
      for (const w of waiting) w()
      waiting = []
    },
    connections: () => f.conns,
    ping: (id) => {
      f.pings.push(id)
      const ok = f.answers.get(id) ?? true
      const settle = (resolve: () => void, reject: (e: Error) => void): void =>
        ok ? resolve() : reject(new Error('no answer'))
      return new Promise((resolve, reject) => {
        if (f.hold) waiting.push(() => settle(resolve, reject))
        else settle(resolve, reject)
      })
    },
    abort: (id) => void f.aborted.push(id),
  }
  return f
}

const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** `n` rounds, each left to settle. */
async function rounds(watch: PingWatch, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    watch.round()
    await settled()
  }
}
const init = { intervalMs: 1_000, timeoutMs: 1_000, maxFailures: 3 }

describe('the ping watch', () => {
  it('closes a connection after three failed pings in a row, not before', async () => {
    const f = fake()
    const watch = new PingWatch(f, init)
    f.answers.set('c1', false)
    await rounds(watch, 2)
    expect(f.aborted).toEqual([])
    await rounds(watch, 1)
    expect(f.aborted).toEqual(['c1'])
  })

  it('starts the count afresh after an answer', async () => {
    const f = fake()
    const watch = new PingWatch(f, init)
    for (const ok of [false, false, true, false, false]) {
      f.answers.set('c1', ok)
      watch.round()
      await settled()
    }
    expect(f.aborted).toEqual([])
    expect(f.pings).toHaveLength(5)
  })

  it('sends no second ping while one is waiting, and pings only open connections', async () => {
    const f = fake()
    f.conns.push({ id: 'c2', remotePeer: 'p2', status: 'closing' })
    const watch = new PingWatch(f, init)
    f.hold = true
    watch.round()
    watch.round()
    expect(f.pings).toEqual(['c1'])
    f.release()
    await settled()
    watch.round()
    expect(f.pings).toEqual(['c1', 'c1'])
  })

  it('forgets the failures of a connection that closed', async () => {
    const f = fake()
    const watch = new PingWatch(f, init)
    f.answers.set('c1', false)
    await rounds(watch, 2)
    f.conns = []
    watch.round()
    f.conns = [{ id: 'c1', remotePeer: 'p1', status: 'open' }] // (an id is never reused; this checks the count)
    watch.round()
    await settled()
    expect(f.aborted).toEqual([])
  })
})
