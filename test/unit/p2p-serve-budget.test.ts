import { describe, expect, it } from 'vitest'
import { ServeBudget, withinBudget } from '../../node/p2p/serve-budget.js'

async function drain(items: AsyncIterable<Uint8Array>): Promise<number | string> {
  let n = 0
  try {
    for await (const _ of items) n++
    return n
  } catch (err) {
    return `${(err as { code: string }).code} after ${n}`
  }
}

describe('what one peer may have served by sync per window (docs/protocol.md §9, Budgets)', () => {
  const items = (n: number) => Array.from({ length: n }, () => new Uint8Array(1))

  it('serves up to the budget per peer, then stops with RATE_LIMITED; other peers keep theirs; a new window refills', async () => {
    let now = 0
    const budget = new ServeBudget(10, 60_000, () => now)
    expect(await drain(withinBudget(budget, 'a', () => items(6)))).toBe(6)
    expect(await drain(withinBudget(budget, 'a', () => items(6)))).toBe('RATE_LIMITED after 4')
    expect(await drain(withinBudget(budget, 'b', () => items(10)))).toBe(10)
    expect(await drain(withinBudget(budget, 'a', () => items(1)))).toBe('RATE_LIMITED after 0')
    now = 60_000
    expect(await drain(withinBudget(budget, 'a', () => items(10)))).toBe(10)
  })

  it('at most two answers to one peer at once; the third is RATE_LIMITED, and one that ends frees its place', async () => {
    const budget = new ServeBudget()
    let open: () => void = () => undefined
    const gate = new Promise<void>((resolve) => (open = resolve))
    async function* slow(): AsyncGenerator<Uint8Array> {
      await gate
      yield new Uint8Array(1)
    }
    const first = drain(withinBudget(budget, 'a', () => slow()))
    const second = drain(withinBudget(budget, 'a', () => slow()))
    await new Promise((resolve) => setImmediate(resolve))
    expect(await drain(withinBudget(budget, 'a', () => items(1)))).toBe('RATE_LIMITED after 0')
    expect(await drain(withinBudget(budget, 'b', () => items(1)))).toBe(1)
    open()
    expect([await first, await second]).toEqual([1, 1])
    expect(await drain(withinBudget(budget, 'a', () => items(1)))).toBe(1)
  })

  it('names the budget it counts in its refusal (the handshake service counts challenges)', () => {
    const budget = new ServeBudget(1, 60_000, () => 0, { budget: 'handshake', unit: 'challenges' })
    budget.take('a')
    expect(() => budget.take('a')).toThrow('handshake budget of 1 challenges per 60 s spent')
  })

  it('keeps a bounded count of peers', () => {
    let now = 0
    const budget = new ServeBudget(1, 60_000, () => now)
    for (let i = 0; i < 10_000; i++) budget.take(`peer-${i}`)
    now = 1
    expect(() => budget.take('peer-9999')).toThrow(/budget/) // the newest are still counted
    expect(() => budget.take('peer-0')).not.toThrow() // the oldest were forgotten
  })
})
