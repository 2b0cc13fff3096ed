// Counters per key over fixed windows (node/p2p/window-budgets.ts; docs/protocol.md §7, §10; decision 0062):
// a new key past the bound pushes out the key whose window started first, never is refused itself.
import { describe, expect, it } from 'vitest'
import { WindowBudgets } from '../../node/p2p/window-budgets.js'

const WINDOW = 60_000

describe('window budgets', () => {
  it('keeps each key within its messages and bytes of the window, and starts it again in the next', () => {
    const b = new WindowBudgets(WINDOW, 10)
    expect(b.fits('p', 0, 2, 100, 60)).toBe(true)
    b.charge('p', 0, 60)
    expect(b.fits('p', 1, 2, 100, 60)).toBe(false) // 120 bytes
    expect(b.fits('p', 1, 2, 100, 40)).toBe(true)
    b.charge('p', 1, 40)
    expect(b.fits('p', 2, 2, 100, 0)).toBe(false) // a third message
    expect(b.fits('p', WINDOW, 2, 100, 100)).toBe(true)
  })

  it('takes a new key past the bound by forgetting the oldest, and tracks no more than the bound', () => {
    const b = new WindowBudgets(WINDOW, 3)
    for (const [i, key] of ['a', 'b', 'c'].entries()) b.charge(key, i, 1)
    expect(b.fits('d', 3, 1, 10, 1)).toBe(true) // a full table refuses nobody
    b.charge('d', 3, 1)
    expect(b.size).toBe(3)
    expect(b.fits('a', 4, 1, 10, 1)).toBe(true) // 'a' was forgotten: a fresh window
    expect(b.fits('b', 4, 1, 10, 1)).toBe(false) // the others keep what they used
    expect(b.fits('c', 4, 1, 10, 1)).toBe(false)
    expect(b.fits('d', 4, 1, 10, 1)).toBe(false)
  })

  it('orders keys by the start of their window: a key whose window started again is forgotten last', () => {
    const b = new WindowBudgets(WINDOW, 2)
    b.charge('a', 0, 1)
    b.charge('b', 1, 1)
    b.charge('a', WINDOW, 1) // a new window for 'a': now after 'b'
    b.charge('c', WINDOW + 1, 1) // pushes out 'b'
    expect(b.fits('a', WINDOW + 2, 1, 10, 1)).toBe(false)
    expect(b.fits('c', WINDOW + 2, 1, 10, 1)).toBe(false)
    expect(b.size).toBe(2)
  })

  it('tracks at least one key', () => {
    const b = new WindowBudgets(WINDOW, 0)
    b.charge('a', 0, 1)
    expect(b.fits('a', 1, 1, 10, 1)).toBe(false)
    b.charge('b', 1, 1)
    expect(b.size).toBe(1)
  })
})
