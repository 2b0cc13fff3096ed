/**
 * The durable outbox (docs/protocol.md §10) on a real SQLite file: a message
 * is kept once, comes due in order, settles once (a late retry cannot undo a
 * receipt), wakes when its host connects, and survives closing the store.
 * A message to an agent of the same node is marked on its own row instead
 * (migration 10 moves the older outbox rows of that kind).
 */
import { databaseAtSchema } from '../../helpers/schema-at.js'
import { afterEach, describe, expect, it } from 'vitest'
import type { MsgEnvelope } from '../../../node/core/index.js'
import { MIGRATIONS } from '../../../node/store/migrations.js'
import { openStore, type Store } from '../../../node/store/index.js'
import { tempDir } from '../../helpers/mesh.js'

const cleanups: (() => void)[] = []
afterEach(() => {
  while (cleanups.length) cleanups.pop()!()
})

function fileStore(): { store: Store; path: string } {
  const { dir, cleanup } = tempDir()
  cleanups.push(cleanup)
  const path = `${dir}/meshsig.db`
  return { store: openStore({ path }), path }
}

const row = (id: string, to: string, now: number) => ({
  id,
  to,
  envelope: `{"id":"${id}"}`,
  now,
  expiresAt: now + 1000,
})
const id = (n: number): string => n.toString(16).padStart(64, '0')

function host(store: Store, did: string, peerId: string): void {
  store.agents.upsert({
    ...{ did, name: did, capabilities: [], controller: 'did:msig:node', peerId, origin: 'remote' },
    ...{ regId: id(did.length), regEnvelope: '{}', regTs: 1, createdAt: 1, lastSeenAt: 1 },
  })
}

describe('outbox repository', () => {
  it('keeps a message once and hands out due messages oldest first', () => {
    const { store } = fileStore()
    expect(store.outbox.enqueue(row(id(1), 'did:msig:b', 10))).toBe(true)
    expect(store.outbox.enqueue(row(id(1), 'did:msig:b', 11))).toBe(false)
    store.outbox.enqueue(row(id(2), 'did:msig:b', 5))
    expect(store.outbox.due(10, 10).map((r) => r.id)).toEqual([id(2), id(1)])
    expect(store.outbox.due(9, 10).map((r) => r.id)).toEqual([id(2)])
    expect(store.outbox.pending()).toBe(2)
    store.close()
  })

  it('settles once: a receipt stays, later retries and refusals change nothing', () => {
    const { store } = fileStore()
    store.outbox.enqueue(row(id(1), 'did:msig:b', 10))
    store.outbox.retryAt(id(1), 500, { code: 'UNREACHABLE', reason: 'down' }, 20)
    expect(store.outbox.get(id(1))).toMatchObject({ state: 'pending', attempts: 1, nextAt: 500, code: 'UNREACHABLE' })
    expect(store.outbox.nextDueAt()).toBe(500)
    expect(store.outbox.settled(id(1), { state: 'delivered', receipt: '{"r":1}' }, 30)).toBe(true)
    expect(store.outbox.settled(id(1), { state: 'refused', code: 'REVOKED', reason: 'x' }, 40)).toBe(false)
    store.outbox.retryAt(id(1), 900, { code: 'UNREACHABLE', reason: 'down' }, 50)
    expect(store.outbox.get(id(1))).toMatchObject({ state: 'delivered', receipt: '{"r":1}', attempts: 1 })
    expect(store.outbox.pending()).toBe(0)
    expect(store.outbox.nextDueAt()).toBeUndefined()
    store.close()
  })

  it('wakes the messages of the agents a connecting peer hosts, and only those', () => {
    const { store } = fileStore()
    host(store, 'did:msig:b', 'peer-b')
    host(store, 'did:msig:cc', 'peer-c')
    store.outbox.enqueue(row(id(1), 'did:msig:b', 10))
    store.outbox.enqueue(row(id(2), 'did:msig:cc', 10))
    for (const n of [1, 2]) store.outbox.retryAt(id(n), 10_000, { code: 'UNREACHABLE', reason: 'down' }, 20)
    expect(store.outbox.wakeFor('peer-b', 30)).toBe(1)
    expect(store.outbox.due(30, 10).map((r) => r.id)).toEqual([id(1)])
    store.close()
  })

  it('survives closing and reopening the database, with the receipts this node issued', () => {
    const { store, path } = fileStore()
    store.outbox.enqueue(row(id(1), 'did:msig:b', 10))
    store.outbox.issue(id(7), '{"receipt":7}', 10)
    store.outbox.issue(id(7), '{"receipt":"other"}', 11)
    store.close()
    const again = openStore({ path })
    expect(again.outbox.get(id(1))).toMatchObject({ state: 'pending', to: 'did:msig:b' })
    expect(again.outbox.issued(id(7))).toBe('{"receipt":7}')
    again.close()
  })
})

/** A database as schema 9 left it: a message delivered here kept as a settled outbox row with no receipt. */
function schema9(path: string, rows: { id: string; state: string; receipt: string | null }[]): void {
  const db = databaseAtSchema(path, 9)
  const msg = db.prepare(
    "INSERT INTO messages (id, from_did, to_did, ts, envelope, source, received_at) VALUES (?, 'did:msig:a', 'did:msig:b', 1, '{}', 'api', 7)",
  )
  const out = db.prepare(
    "INSERT INTO outbox (id, to_did, envelope, state, next_at, expires_at, created_at, updated_at, receipt) VALUES (?, 'did:msig:b', '', ?, 1, 1, 1, 1, ?)",
  )
  for (const r of rows) {
    msg.run(r.id)
    out.run(r.id, r.state, r.receipt)
  }
  db.close()
}

describe('a message delivered to an agent of this node (docs/protocol.md §10)', () => {
  it('is marked on its own row, not kept in the outbox', () => {
    const { store } = fileStore()
    store.messages.add(id(1), msgEnvelope(), 'api', 42)
    expect(store.messages.deliveredHereAt(id(1))).toBeUndefined()
    expect(store.messages.markDeliveredHere(id(1))).toBe(true)
    expect(store.messages.deliveredHereAt(id(1))).toBe(42)
    expect(store.outbox.get(id(1))).toBeUndefined()
    expect(store.outbox.pending()).toBe(0)
    expect(store.messages.markDeliveredHere(id(2))).toBe(false) // nothing stored under that id
    store.close()
  })

  it('migration 10 moves the settled, receipt-less rows of schema 9 onto their messages and keeps the rest', () => {
    const { dir, cleanup } = tempDir()
    cleanups.push(cleanup)
    const path = `${dir}/meshsig.db`
    schema9(path, [
      { id: id(1), state: 'delivered', receipt: null },
      { id: id(2), state: 'delivered', receipt: '{"r":2}' },
      { id: id(3), state: 'pending', receipt: null },
    ])
    const store = openStore({ path })
    expect(store.schemaVersion()).toBe(MIGRATIONS.length)
    expect(store.messages.deliveredHereAt(id(1))).toBe(7)
    expect(store.outbox.get(id(1))).toBeUndefined()
    expect(store.messages.deliveredHereAt(id(2))).toBeUndefined()
    expect(store.outbox.get(id(2))).toMatchObject({ state: 'delivered', receipt: '{"r":2}' })
    expect(store.outbox.get(id(3))).toMatchObject({ state: 'pending' })
    expect(store.outbox.pending()).toBe(1)
    store.close()
  })
})

function msgEnvelope(): MsgEnvelope {
  return {
    ...{ v: 1, type: 'msg', from: 'did:msig:a', to: 'did:msig:b', ts: 1, nonce: 'AAAAAAAAAAAAAAAAAAAAAA==' },
    ...{ body: 'hi', sig: '' },
  } as unknown as MsgEnvelope
}
