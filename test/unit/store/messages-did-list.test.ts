/**
 * `MessagesRepo.list({ did })` takes a DID's page from `messages_from` and
 * `messages_to` separately, each in `seq` order (attack review 101, F1,
 * decision 0067 addendum): its plan has no TEMP B-TREE over the DID's rows,
 * and it returns what `(from_did = ? OR to_did = ?) ORDER BY seq DESC` did,
 * a message to oneself once, for every `before` and `limit`.
 */
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMessage, didFromPublicKey, envelopeId, generateKeyPair, type KeyPair } from '../../../node/core/index.js'
import { openStore, type Store } from '../../../node/store/index.js'
import { tempDir } from '../../helpers/mesh.js'

const cleanups: (() => void)[] = []
afterEach(() => {
  vi.restoreAllMocks()
  while (cleanups.length) cleanups.pop()!()
})

const keys = [generateKeyPair(), generateKeyPair(), generateKeyPair()] as const
const [A, B, C] = keys.map((k) => didFromPublicKey(k.publicKey)) as [string, string, string]
const keyOf = (did: string): KeyPair => keys[[A, B, C].indexOf(did)]!

function fileStore(): { store: Store; path: string } {
  const { dir, cleanup } = tempDir()
  cleanups.push(cleanup)
  const path = `${dir}/meshsig.db`
  const store = openStore({ path })
  cleanups.unshift(() => store.close())
  return { store, path }
}

/** From A, to A, A to itself, broadcasts and messages between others, interleaved. */
function fill(store: Store): void {
  const shapes: [string, string | null][] = [
    [A, B],
    [B, A],
    [A, A],
    [A, null],
    [B, C],
    [C, null],
    [C, A],
    [B, B],
  ]
  for (let i = 0; i < 80; i++) {
    const [from, to] = shapes[(i * 5) % shapes.length]!
    const m = createMessage({ from, to, body: `m${i}`, ts: 1_000 + i, nonce: new Uint8Array(16).fill(i) }, keyOf(from))
    store.messages.add(envelopeId(m), m, 'gossip', 1_000 + i)
  }
}

describe('MessagesRepo.list of a DID', () => {
  it('returns what the OR filter returned, newest first, for every before and limit', () => {
    const { store, path } = fileStore()
    fill(store)
    const raw = new Database(path, { readonly: true })
    cleanups.unshift(() => raw.close())
    const reference = raw.prepare(
      'SELECT seq FROM messages WHERE (from_did = ? OR to_did = ?) AND seq < ? ORDER BY seq DESC LIMIT ?',
    )
    for (const did of [A, B, C, 'did:msig:nobody']) {
      for (const before of [undefined, 1, 2, 17, 40, 79, 81]) {
        for (const limit of [1, 2, 3, 8, 9, 100]) {
          const got = store.messages.list({ did, limit, ...(before !== undefined ? { before } : {}) }).map((r) => r.seq)
          const want = (reference.all(did, did, before ?? Number.MAX_SAFE_INTEGER, limit) as { seq: number }[]).map(
            (r) => r.seq,
          )
          expect(got, `${did} before ${before} limit ${limit}`).toEqual(want)
        }
      }
    }
    expect(store.messages.list({ did: A, limit: 100 }).length).toBe(store.messages.totalOf(A))
  })

  it('reads both indexes in seq order: no TEMP B-TREE over the DID rows', () => {
    const { store, path } = fileStore()
    fill(store)
    const seen: string[] = []
    const prepare = Database.prototype.prepare
    vi.spyOn(Database.prototype, 'prepare').mockImplementation(function (this: Database.Database, sql: string) {
      seen.push(sql)
      return prepare.call(this, sql)
    })
    store.messages.list({ did: A, limit: 8 })
    store.messages.list({ did: A, before: 40, limit: 8 })
    vi.restoreAllMocks()
    expect(seen).toHaveLength(2)
    const raw = new Database(path, { readonly: true })
    cleanups.unshift(() => raw.close())
    for (const sql of seen) {
      const params = sql
        .split('?')
        .slice(1)
        .map(() => null) // the plan does not depend on the values
      const plan = (raw.prepare('EXPLAIN QUERY PLAN ' + sql).all(...params) as { detail: string }[])
        .map((r) => r.detail)
        .join(' | ')
      expect(plan).toMatch(/COVERING INDEX messages_from/)
      expect(plan).toMatch(/COVERING INDEX messages_to/)
      expect(plan, plan).not.toMatch(/TEMP B-TREE|MULTI-INDEX OR|SCAN messages/)
    }
  })
})
