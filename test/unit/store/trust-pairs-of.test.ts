/**
 * One DID's connections are read from that DID's own `pair` rows (migration
 * 22, attack review 116, decision 0081): the pairs it is first in by the
 * primary key, those it is second in by `trust_pair_second`, by the other
 * DID, a page at a time; and a page of a scope reads that page. What the
 * open transaction wrote counts as it does for `list`.
 */
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { pairKey } from '../../../node/audit/trust-ledger.js'
import { openStore, type Store } from '../../../node/store/index.js'
import { PAIRS_FIRST_SQL, PAIRS_SECOND_SQL } from '../../../node/store/trust-repo.js'
import { tempDir } from '../../helpers/mesh.js'

const cleanups: (() => void)[] = []
afterEach(() => {
  while (cleanups.length) cleanups.pop()!()
})

function fileStore(): { store: Store; path: string } {
  const { dir, cleanup } = tempDir()
  cleanups.push(cleanup)
  const path = `${dir}/meshsig.db`
  const store = openStore({ path })
  cleanups.unshift(() => store.close())
  return { store, path }
}

// "did:msig:m" sorts between the others; "did:msig:mm" has it as a prefix
const [A, M, MM, Z] = ['did:msig:a', 'did:msig:m', 'did:msig:mm', 'did:msig:z']

function connect(store: Store, x: string, y: string, successes = 1): void {
  const [a, b] = [x, y].sort() as [string, string]
  store.trust.add('pair', pairKey(a, b), successes, 0)
}

const others = (store: Store, did: string, after = '', limit = 10): string[] =>
  store.trust.pairsOf(did, after, limit).map((r) => r.key.split(' ').find((d) => d !== did) ?? did)

describe('trust evidence of one DID', () => {
  it("answers the pairs it is in, first or second, by the other DID, and no other DID's", () => {
    const { store } = fileStore()
    connect(store, A, M)
    connect(store, M, Z)
    connect(store, MM, Z)
    connect(store, A, MM)
    connect(store, A, Z)
    expect(others(store, M)).toEqual([A, Z])
    expect(others(store, MM)).toEqual([A, Z])
    expect(others(store, Z)).toEqual([A, M, MM])
    expect(others(store, 'did:msig:q')).toEqual([])
  })

  it('pages by the other DID: `limit` rows after `after`, none twice, none left out', () => {
    const { store } = fileStore()
    for (const d of [A, MM, Z]) connect(store, M, d)
    expect(others(store, M, '', 2)).toEqual([A, MM])
    expect(others(store, M, MM, 2)).toEqual([Z])
    expect(others(store, M, Z, 2)).toEqual([])
  })

  it('counts what the open transaction wrote, as `list` does', () => {
    const { store } = fileStore()
    connect(store, A, M, 2)
    store.transaction(() => {
      connect(store, M, Z)
      connect(store, A, M, 3)
      expect(store.trust.pairsOf(M, '', 10).map((r) => [r.key, r.successes])).toEqual([
        [pairKey(A, M), 5],
        [pairKey(M, Z), 1],
      ])
    })
    expect(store.trust.pairsOf(M, '', 10)).toEqual(
      store.trust.list('pair').filter((r) => r.key.includes(M + ' ') || r.key.endsWith(' ' + M)),
    )
  })

  it('a page of a scope: `limit` keys after `after`, by key', () => {
    const { store } = fileStore()
    for (const p of ['p3', 'p1', 'p2']) store.trust.add('peer', p, 1, 0)
    expect(store.trust.page('peer', '', 2).map((r) => r.key)).toEqual(['p1', 'p2'])
    expect(store.trust.page('peer', 'p2', 2).map((r) => r.key)).toEqual(['p3'])
  })

  it('reads through the indexes, no scan of the pairs', () => {
    const { store, path } = fileStore()
    connect(store, A, M)
    const raw = new Database(path, { readonly: true })
    cleanups.unshift(() => raw.close())
    const plan = (sql: string, ...params: unknown[]): string =>
      (raw.prepare('EXPLAIN QUERY PLAN ' + sql).all(...params) as { detail: string }[]).map((r) => r.detail).join(' | ')
    const first = plan(PAIRS_FIRST_SQL, `${M} `, `${M}!`, 10)
    const second = plan(PAIRS_SECOND_SQL, M, '', 10)
    expect(first).toMatch(/USING PRIMARY KEY \(scope=\? AND key>\? AND key<\?\)/)
    expect(second).toMatch(/USING (COVERING )?INDEX trust_pair_second/)
    expect(`${first} | ${second}`).not.toMatch(/TEMP B-TREE|SCAN/)
  })
})
