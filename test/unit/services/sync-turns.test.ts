/**
 * The node-wide turn of registry sync rounds, lent in slices
 * (docs/protocol.md §9): one round at a time; a round past its slice with
 * others waiting queues again behind them, except the lead round (the first
 * whose slice brought something new), which gets the turn back after each
 * queued round's slice. A hand-moved clock.
 */
import { describe, expect, it } from 'vitest'
import { LEAD_SLICES, SyncTurns, type TurnSlice } from '../../../node/services/sync-turns.js'

/** A promise and its resolver. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined
  const promise = new Promise<void>((resolve) => (open = resolve))
  return { promise, open }
}

/** Let queued callbacks run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('SyncTurns', () => {
  it('lends the turn to one round at a time, in order, and passes it on when a round throws', async () => {
    const turns = new SyncTurns({ sliceMs: 1_000, clock: () => 0 })
    const order: string[] = []
    const first = gate()
    const a = turns.run(async () => {
      order.push('a')
      await first.promise
      throw new Error('a broke')
    })
    const b = turns.run(async () => void order.push('b'))
    const c = turns.run(async () => void order.push('c'))
    await settle()
    expect(order).toEqual(['a'])
    expect(turns.waiting).toBe(2)
    first.open()
    await expect(a).rejects.toThrow('a broke')
    await Promise.all([b, c])
    expect(order).toEqual(['a', 'b', 'c'])
    expect(turns.waiting).toBe(0)
  })

  it('is due only past its slice while another round waits', async () => {
    let now = 0
    const turns = new SyncTurns({ sliceMs: 1_000, clock: () => now })
    const held = gate()
    let slice: TurnSlice | undefined
    const a = turns.run(async (s) => {
      slice = s
      await held.promise
    })
    await settle()
    now = 5_000
    expect(slice!.due(false)).toBe(false) // nobody waits: a join pulls on undisturbed
    const b = turns.run(async () => undefined)
    await settle()
    expect(slice!.due(false)).toBe(true)
    now = 5_000
    held.open()
    await Promise.all([a, b])
  })

  it('a round that brought nothing queues behind the others; the first that brought something leads', async () => {
    let now = 0
    const turns = new SyncTurns({ sliceMs: 1_000, clock: () => now })
    const order: string[] = []
    const go = gate()
    const slow = turns.run(async (s) => {
      order.push('slow')
      await go.promise
      now += 1_000
      expect(s.due(false)).toBe(true)
      await s.requeue(false) // nothing new: behind every waiting round
      order.push('slow again')
    })
    const joining = turns.run(async (s) => {
      order.push('join')
      now += 1_000
      await s.requeue(true) // brought something new, and no round leads: this one does
      order.push('join again')
    })
    const other = turns.run(async () => void order.push('other'))
    await settle()
    go.open()
    await Promise.all([slow, joining, other])
    // 'other' was queued before the join gave up its slice; the lead then gets the turn back before 'slow'
    expect(order).toEqual(['slow', 'join', 'other', 'join again', 'slow again'])
  })

  it('the lead holds longer slices while it brings something; queued rounds interrupt it one slice each', async () => {
    let now = 0
    const turns = new SyncTurns({ sliceMs: 1_000, clock: () => now })
    const order: string[] = []
    const go = gate()
    const lead = turns.run(async (s) => {
      await go.promise
      order.push('lead')
      now += 1_000
      await s.requeue(true) // it leads from now on
      order.push('lead')
      now += 1_000
      expect(s.due(true)).toBe(false) // a lead slice that brings something lasts LEAD_SLICES slices
      expect(s.due(false)).toBe(true) // one that brings nothing does not
      now += LEAD_SLICES * 1_000
      expect(s.due(true)).toBe(true)
      await s.requeue(true)
      order.push('lead')
    })
    const rounds = ['new', 'joining'].map((name) =>
      turns.run(async (s) => {
        order.push(name)
        now += 1_000
        await s.requeue(name === 'joining') // 'joining' brought something too, but a round already leads
        order.push(`${name} again`)
      }),
    )
    await settle()
    go.open()
    await Promise.all([lead, ...rounds])
    expect(order).toEqual(['lead', 'new', 'lead', 'joining', 'lead', 'new again', 'joining again'])
  })

  it('a new round waits for one slice of each round queued before it, with the lead between them', async () => {
    let now = 0
    const turns = new SyncTurns({ sliceMs: 1_000, clock: () => now })
    const order: string[] = []
    const first = gate()
    const joins = ['p', 'q', 'r'].map((name) =>
      turns.run(async (s) => {
        if (name === 'p') await first.promise
        for (let slice = 0; slice < 3; slice++) {
          order.push(name)
          now += LEAD_SLICES * 1_000
          if (s.due(true)) await s.requeue(true)
        }
      }),
    )
    const late = turns.run(async () => void order.push('new'))
    await settle()
    first.open()
    await Promise.all([...joins, late])
    // 'p' leads; 'q' and 'r', queued before 'new', get one slice each, the lead one between each
    expect(order.slice(0, order.indexOf('new') + 1)).toEqual(['p', 'q', 'p', 'r', 'p', 'new'])
  })

  it('counts only the time a round held the turn, over all its slices', async () => {
    let now = 0
    const turns = new SyncTurns({ sliceMs: 1_000, clock: () => now })
    const other = gate()
    let held = -1
    const a = turns.run(async (s) => {
      now += 1_500
      const b = turns.run(async () => {
        now += 60_000 // another round's slice, while this one waits
        await other.promise
      })
      await settle()
      const back = s.requeue(false)
      other.open()
      await Promise.all([back, b])
      now += 500
      held = s.heldMs()
    })
    await a
    expect(held).toBe(2_000)
  })

  it('tells a round that queues again to end once the turns stopped', async () => {
    const turns = new SyncTurns({ sliceMs: 0, clock: () => 0 })
    let again: boolean | undefined
    await turns.run(async (s) => {
      turns.stop()
      again = await s.requeue(false)
    })
    expect(again).toBe(false)
    turns.start()
    await turns.run(async (s) => void (again = await s.requeue(false)))
    expect(again).toBe(true)
  })
})
