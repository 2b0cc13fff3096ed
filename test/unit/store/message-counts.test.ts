/**
 * Messages are counted per pair of agents and per DID as they are stored and
 * deleted (migration 20, attack review 98, decision 0067): `GET
 * /history/links` and `GET /messages?did=` read these counts through their
 * indexes instead of reading every stored message, bodies included, after
 * each start. A database written before the migration is counted once, by it.
 */
import { databaseAtSchema } from '../../helpers/schema-at.js'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { createMessage, didFromPublicKey, envelopeId, generateKeyPair, type KeyPair } from '../../../node/core/index.js'
import { MIGRATIONS } from '../../../node/store/migrations.js'
import { openStore, type Store } from '../../../node/store/index.js'
import { tempDir } from '../../helpers/mesh.js'

const cleanups: (() => void)[] = []
afterEach(() => {
  while (cleanups.length) cleanups.pop()!()
})

const keys = [generateKeyPair(), generateKeyPair(), generateKeyPair()] as const
const [A, B, C] = keys.map((k) => didFromPublicKey(k.publicKey)) as [string, string, string]
const keyOf = (did: string): KeyPair => keys[[A, B, C].indexOf(did)]!
let nonce = 0

/** Store a message from `from` to `to` (null: a broadcast) signed at `ts`, received at `at`; its envelope's bytes. */
function send(store: Store, from: string, to: string | null, ts: number, at = ts): number {
  const body = `é${'m'.repeat(nonce)}`
  const m = createMessage({ from, to, body, ts, nonce: new Uint8Array(16).fill(++nonce % 256) }, keyOf(from))
  store.messages.add(envelopeId(m), m, 'gossip', at)
  return Buffer.byteLength(JSON.stringify(m))
}

function fileStore(): { store: Store; path: string } {
  const { dir, cleanup } = tempDir()
  cleanups.push(cleanup)
  const path = `${dir}/meshsig.db`
  const store = openStore({ path })
  cleanups.unshift(() => store.close())
  return { store, path }
}

describe('message counts (migration 20)', () => {
  it('count pairs (not a message to itself nor a broadcast), DIDs and bytes as messages are stored', () => {
    const { store } = fileStore()
    expect(store.messages.envelopeBytes()).toBe(0)
    const bytes = [
      send(store, A, B, 1_000),
      send(store, A, B, 3_000),
      send(store, A, B, 2_000), // an older signed time keeps the latest
      send(store, B, A, 4_000),
      send(store, C, C, 5_000),
      send(store, C, null, 6_000),
    ]
    expect(store.messages.envelopeBytes()).toBe(bytes.reduce((a, b) => a + b))
    expect(store.messages.pairs(10)).toEqual([
      { from: B, to: A, count: 1, lastTs: 4_000 },
      { from: A, to: B, count: 3, lastTs: 3_000 },
    ])
    expect(store.messages.pairs(1)).toEqual([{ from: B, to: A, count: 1, lastTs: 4_000 }])
    expect(store.messages.pairCount()).toBe(2)
    expect([A, B, C, 'did:msig:none'].map((d) => store.messages.totalOf(d))).toEqual([4, 4, 2, 0])
  })

  it('uncount what is deleted (retention), and forget a pair or DID left with none', () => {
    const { store } = fileStore()
    send(store, A, B, 2_000, 10)
    const kept = send(store, A, B, 1_000, 20)
    send(store, B, C, 3_000, 10)
    send(store, C, null, 4_000, 10)
    expect(store.messages.pruneForeign(15)).toBe(3) // received before 15, and no agent here: A→B once, B→C, C's
    expect(store.messages.envelopeBytes()).toBe(kept)
    // the latest signed time seen stays the pair's last (docs/api.md `GET /history/links`)
    expect(store.messages.pairs(10)).toEqual([{ from: A, to: B, count: 1, lastTs: 2_000 }])
    expect([A, B, C].map((d) => store.messages.totalOf(d))).toEqual([1, 1, 0])
    expect(store.messages.pairCount()).toBe(1)
  })

  it('roll back with the message they count', () => {
    const { store } = fileStore()
    const first = send(store, A, B, 1_000)
    expect(() =>
      store.transaction(() => {
        send(store, A, B, 2_000)
        throw new Error('rolled back')
      }),
    ).toThrow('rolled back')
    expect(store.messages.pairs(10)).toEqual([{ from: A, to: B, count: 1, lastTs: 1_000 }])
    expect(store.messages.totalOf(A)).toBe(1)
    expect(store.messages.envelopeBytes()).toBe(first)
  })

  it('are read through their indexes: a page of pairs and a DID cost what they return', () => {
    const { store, path } = fileStore()
    send(store, A, B, 1_000)
    const raw = new Database(path, { readonly: true })
    cleanups.unshift(() => raw.close())
    const plan = (sql: string): string =>
      (raw.prepare('EXPLAIN QUERY PLAN ' + sql).all() as { detail: string }[]).map((r) => r.detail).join(' | ')
    const pairs = plan('SELECT * FROM message_pairs ORDER BY last_ts DESC, from_did, to_did LIMIT 5')
    expect(pairs).toMatch(/USING (COVERING )?INDEX message_pairs_recent/)
    expect(pairs).not.toMatch(/TEMP B-TREE/)
    expect(plan("SELECT n FROM message_dids WHERE did = 'x'")).toMatch(/USING PRIMARY KEY/)
  })

  it('a database of schema 19 is counted once by the migration, then counts on', () => {
    const { dir, cleanup } = tempDir()
    cleanups.push(cleanup)
    const path = `${dir}/meshsig.db`
    const db = databaseAtSchema(path, 19)
    const put = db.prepare(
      'INSERT INTO messages (id, from_did, to_did, ts, envelope, source, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    )
    const rows: [string, string | null, number][] = [
      [A, B, 1_000],
      [A, B, 2_000],
      [B, A, 500],
      [A, A, 3_000],
      [C, null, 4_000],
    ]
    rows.forEach(([from, to, ts], i) => put.run(`id${i}`, from, to, ts, `{"é":${i}}`, 'gossip', ts))
    db.close()
    const store = openStore({ path })
    cleanups.unshift(() => store.close())
    expect(store.schemaVersion()).toBe(MIGRATIONS.length)
    expect(store.messages.pairs(10)).toEqual([
      { from: A, to: B, count: 2, lastTs: 2_000 },
      { from: B, to: A, count: 1, lastTs: 500 },
    ])
    expect([A, B, C].map((d) => store.messages.totalOf(d))).toEqual([4, 3, 1])
    expect(store.messages.envelopeBytes()).toBe(5 * Buffer.byteLength('{"é":0}'))
    send(store, B, A, 6_000)
    expect(store.messages.pairs(1)).toEqual([{ from: B, to: A, count: 2, lastTs: 6_000 }])
    expect(store.messages.totalOf(A)).toBe(5)
  })

  it('a database of schema 20 gets a delete trigger of one-key statements (migration 21), and counts on', () => {
    const { dir, cleanup } = tempDir()
    cleanups.push(cleanup)
    const path = `${dir}/meshsig.db`
    const db = databaseAtSchema(path, 20)
    const put = db.prepare(
      'INSERT INTO messages (id, from_did, to_did, ts, envelope, source, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    )
    const shapes: [string, string | null][] = [
      [A, B],
      [B, A],
      [A, A],
      [C, null],
      [B, C],
      [C, C],
    ]
    for (let i = 0; i < 60; i++) put.run(`id${i}`, ...shapes[i % 6]!, i, `{"é":${i}}`, 'gossip', i)
    db.close()
    const store = openStore({ path })
    cleanups.unshift(() => store.close())
    expect(store.schemaVersion()).toBe(MIGRATIONS.length)
    const raw = new Database(path, { readonly: true })
    cleanups.unshift(() => raw.close())
    // each statement of the trigger (OLD.x bound as a parameter) searches one key: no MULTI-INDEX OR, no scan
    const trigger = (
      raw.prepare("SELECT sql FROM sqlite_master WHERE name = 'messages_uncounted'").get() as {
        sql: string
      }
    ).sql
    const statements = /BEGIN([\s\S]*)END/
      .exec(trigger)![1]!
      .split(';')
      .map((t) => t.trim())
      .filter(Boolean)
    for (const sql of statements) {
      const bound = sql.replace(/OLD\.\w+/g, '?')
      const nulls = bound
        .split('?')
        .slice(1)
        .map(() => null)
      const plan = (raw.prepare('EXPLAIN QUERY PLAN ' + bound).all(...nulls) as { detail: string }[]).map(
        (r) => r.detail,
      )
      expect(plan.join(' | '), sql).toMatch(/^SEARCH \w+ USING (INTEGER )?PRIMARY KEY \([^)]*=\?[^)]*\)$/)
    }
    expect(statements).toHaveLength(7) // the bytes, and an update and a delete of each count
    // deletes through it leave the counts those of the rows that remain
    const recount = (): unknown[] => [
      raw
        .prepare(
          `SELECT did, SUM(n) AS n FROM (SELECT from_did AS did, COUNT(*) AS n FROM messages GROUP BY from_did
           UNION ALL SELECT to_did, COUNT(*) FROM messages WHERE to_did IS NOT NULL AND to_did != from_did
           GROUP BY to_did) GROUP BY did ORDER BY did`,
        )
        .all(),
      raw
        .prepare(
          `SELECT from_did, to_did, COUNT(*) AS n FROM messages WHERE to_did IS NOT NULL AND to_did != from_did
           GROUP BY from_did, to_did ORDER BY from_did, to_did`,
        )
        .all(),
      raw.prepare('SELECT COALESCE(SUM(octet_length(envelope)), 0) AS n FROM messages').get(),
    ]
    const counts = (): unknown[] => [
      raw.prepare('SELECT did, n FROM message_dids ORDER BY did').all(),
      raw.prepare('SELECT from_did, to_did, n FROM message_pairs ORDER BY from_did, to_did').all(),
      { n: store.messages.envelopeBytes() },
    ]
    expect(store.messages.pruneForeign(25, 7)).toBe(7)
    expect(counts()).toEqual(recount())
    expect(store.messages.pruneForeign(45)).toBe(38)
    expect(counts()).toEqual(recount())
    expect(store.messages.pruneForeign(60)).toBe(15)
    expect(counts()).toEqual(recount())
    expect([A, B, C].map((d) => store.messages.totalOf(d))).toEqual([0, 0, 0])
    expect(store.messages.pairCount()).toBe(0)
  })
})
