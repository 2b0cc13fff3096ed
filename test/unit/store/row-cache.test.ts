/**
 * The repositories' read-through cache (node/store/row-cache.ts): a miss
 * loads once, an undefined load is not kept, and it never holds more than
 * its bound (the oldest entry goes first).
 */
import { describe, expect, it } from 'vitest'
import { RowCache } from '../../../node/store/row-cache.js'

describe('RowCache', () => {
  it('loads a miss once and keeps it; an undefined load is asked again', () => {
    const cache = new RowCache<string>(4)
    let loads = 0
    const load = (): string => (loads++, 'row')
    expect(cache.read('a', load)).toBe('row')
    expect(cache.read('a', load)).toBe('row')
    expect(loads).toBe(1)
    let misses = 0
    expect(cache.read('absent', () => (misses++, undefined))).toBeUndefined()
    expect(cache.read('absent', () => (misses++, undefined))).toBeUndefined()
    expect(misses).toBe(2)
  })

  it('never holds more than its bound: the oldest entry goes first, a rewrite makes an entry the newest', () => {
    const cache = new RowCache<number>(3)
    cache.set('a', 1)
    cache.set('b', 2)
    cache.set('c', 3)
    cache.set('a', 10) // rewritten: now the newest
    cache.set('d', 4) // evicts b
    expect([...cache.entries()]).toEqual([
      ['c', 3],
      ['a', 10],
      ['d', 4],
    ])
    for (let i = 0; i < 100; i++) cache.set(`k${i}`, i)
    expect([...cache.entries()].length).toBe(3)
    expect(cache.has('k99') && cache.has('k98') && cache.has('k97')).toBe(true)
    cache.delete('k99')
    expect(cache.has('k99')).toBe(false)
    cache.clear()
    expect([...cache.entries()]).toEqual([])
  })
})
