// Trust evidence written back at COMMIT (node/store/trust-repo.ts): inside a transaction the
// values live in memory per savepoint level; what commits, and only that, reaches the table, with
// the same floating-point sums as writing every delta at once.
import { afterEach, describe, expect, it } from 'vitest'
import { openStore, type Store } from '../../../node/store/index.js'

const stores: Store[] = []
afterEach(() => {
  while (stores.length) stores.pop()!.close()
})

function memoryStore(): Store {
  const store = openStore({ path: ':memory:' })
  stores.push(store)
  return store
}

const DELTAS = [0.1, 0.2, 1 / 3, 0.7, 1e-9, 2 / 7, 0.05]

describe('trust evidence kept until COMMIT', () => {
  it('commits the same sums, bit for bit, as adding each delta to the table at once', () => {
    const direct = memoryStore() // outside a transaction every add is written by SQL
    const kept = memoryStore()
    for (const d of DELTAS) direct.trust.add('did', 'did:msig:a', d, d / 2)
    kept.transaction(() => {
      for (const d of DELTAS) kept.transaction(() => kept.trust.add('did', 'did:msig:a', d, d / 2))
      expect(kept.trust.get('did', 'did:msig:a')).toEqual(direct.trust.get('did', 'did:msig:a'))
    })
    let js = 0
    for (const d of DELTAS) js += d
    expect(kept.trust.get('did', 'did:msig:a').successes).toBe(js)
    expect(kept.trust.get('did', 'did:msig:a')).toEqual(direct.trust.get('did', 'did:msig:a'))
    expect(kept.trust.list('did')).toEqual(direct.trust.list('did'))
  })

  it('drops what a rolled-back savepoint added and keeps what its neighbours added', () => {
    const store = memoryStore()
    store.trust.add('pair', 'k', 1, 0)
    store.transaction(() => {
      store.transaction(() => store.trust.add('pair', 'k', 2, 0))
      expect(() =>
        store.transaction(() => {
          store.trust.add('pair', 'k', 4, 1)
          store.trust.add('pair', 'only-rolled-back', 1, 0)
          expect(store.trust.get('pair', 'k')).toEqual({ successes: 7, failures: 1 })
          throw new Error('one send fails')
        }),
      ).toThrow('one send fails')
      expect(store.trust.get('pair', 'k')).toEqual({ successes: 3, failures: 0 })
      store.transaction(() => store.trust.add('pair', 'k', 8, 0))
    })
    expect(store.trust.get('pair', 'k')).toEqual({ successes: 11, failures: 0 })
    expect(store.trust.list('pair').map((r) => r.key)).toEqual(['k'])

    expect(() =>
      store.transaction(() => {
        store.trust.add('pair', 'k', 100, 0)
        throw new Error('the whole transaction fails')
      }),
    ).toThrow()
    expect(store.trust.get('pair', 'k')).toEqual({ successes: 11, failures: 0 })
  })

  it('a clear inside a savepoint hides the table and the levels below until it is rolled back', () => {
    const store = memoryStore()
    store.trust.add('did', 'old', 5, 0)
    store.transaction(() => {
      store.trust.add('did', 'pending', 1, 0)
      expect(() =>
        store.transaction(() => {
          store.trust.clear()
          expect(store.trust.get('did', 'old')).toEqual({ successes: 0, failures: 0 })
          expect(store.trust.get('did', 'pending')).toEqual({ successes: 0, failures: 0 })
          store.trust.add('did', 'rebuilt', 1, 0)
          expect(store.trust.list('did').map((r) => r.key)).toEqual(['rebuilt'])
          throw new Error('rebuild fails')
        }),
      ).toThrow('rebuild fails')
      expect(store.trust.list('did').map((r) => [r.key, r.successes])).toEqual([
        ['old', 5],
        ['pending', 1],
      ])
    })
    expect(store.trust.list('did').map((r) => [r.key, r.successes])).toEqual([
      ['old', 5],
      ['pending', 1],
    ])

    store.transaction(() => {
      store.trust.add('did', 'pending', 1, 0)
      store.transaction(() => {
        store.trust.clear()
        store.trust.add('did', 'rebuilt', 2, 0)
      })
      expect(store.trust.list('did').map((r) => [r.key, r.successes])).toEqual([['rebuilt', 2]])
    })
    expect(store.trust.list('did').map((r) => [r.key, r.successes])).toEqual([['rebuilt', 2]])
  })
})
