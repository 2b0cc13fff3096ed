/**
 * The revocation list is in the order the node learned the revocations
 * (migration 19, docs/api.md `GET /revoked`), not by their signers' times
 * (review 96's left item): a party dating its revocations far ahead held the
 * first pages for good, and a revocation synced in with an older time fell
 * behind a walker's cursor. A database written before keeps its order.
 */
import { databaseAtSchema } from '../../helpers/schema-at.js'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createInception,
  createRevocation,
  envelopeId,
  generateKeyPair,
  MAX_TS,
  replayKeyEvents,
  type KeyEvent,
  type KeyState,
} from '../../../node/core/index.js'
import { MIGRATIONS } from '../../../node/store/migrations.js'
import { openStore, type Store } from '../../../node/store/index.js'
import { tempDir } from '../../helpers/mesh.js'

const cleanups: (() => void)[] = []
afterEach(() => {
  while (cleanups.length) cleanups.pop()!()
})

/** A DID's inception and its self-revocation signed at `ts`, with the states each leaves. */
function revokedDid(ts: number): { events: KeyEvent[]; states: KeyState[] } {
  const key = generateKeyPair()
  const icp = createInception(key, 1_000)
  const rev = createRevocation(replayKeyEvents([icp]), key, 'retired', ts)
  return { events: [icp, rev], states: [replayKeyEvents([icp]), replayKeyEvents([icp, rev])] }
}

/** Store `d`'s events as ingest does, one state after each. */
function learn(store: Store, d: ReturnType<typeof revokedDid>): string {
  d.events.forEach((e, i) => store.keyEvents.append(e, envelopeId(e), d.states[i]!, 1))
  return d.events[0]!.did
}

function newStore(): { store: Store; path: string } {
  const { dir, cleanup } = tempDir()
  cleanups.push(cleanup)
  const path = `${dir}/meshsig.db`
  return { store: openStore({ path }), path }
}

describe('the revocation list (migration 19)', () => {
  it('lists the revocation learned last first, whatever time its signer wrote', () => {
    const { store } = newStore()
    cleanups.unshift(() => store.close())
    const farAhead = learn(store, revokedDid(MAX_TS))
    const now = learn(store, revokedDid(Date.now()))
    const dayAgo = learn(store, revokedDid(Date.now() - 86_400_000))
    expect(store.keyEvents.revoked().map((r) => r.state.did)).toEqual([dayAgo, now, farAhead])
    expect(store.keyEvents.revoked().map((r) => r.place)).toEqual([3, 2, 1])
    expect(store.keyEvents.revoked(1).map((r) => r.state.did)).toEqual([dayAgo])
    expect(store.keyEvents.revokedAfter({ place: 3 }, 5).map((r) => r.state.did)).toEqual([now, farAhead])
    expect(store.keyEvents.revokedAfter({ place: 1 }, 5)).toEqual([])
  })

  it('a walk sees every revocation it started with once; one learned meanwhile heads the next walk', () => {
    const { store } = newStore()
    cleanups.unshift(() => store.close())
    const known = Array.from({ length: 10 }, (_, i) => learn(store, revokedDid(5_000 + i)))
    const walked = store.keyEvents.revokedAfter(undefined, 4)
    const late = learn(store, revokedDid(1_000)) // synced in, signed long before the others
    for (let last = walked.at(-1); last !== undefined; last = walked.at(-1)) {
      const page = store.keyEvents.revokedAfter({ place: last.place }, 4)
      if (page.length === 0) break
      walked.push(...page)
    }
    expect(walked.map((r) => r.state.did)).toEqual([...known].reverse())
    expect(store.keyEvents.revoked(1)[0]!.state.did).toBe(late)
  })

  it('reads pages and the next place through the index, never a scan of the key states', () => {
    const { store, path } = newStore()
    cleanups.unshift(() => store.close())
    for (let i = 0; i < 20; i++) learn(store, revokedDid(i))
    const raw = new Database(path, { readonly: true })
    cleanups.unshift(() => raw.close())
    const plans = [
      'SELECT state FROM key_states WHERE revoked = 1 AND revoked_order < 5 ORDER BY revoked_order DESC LIMIT 3',
      'SELECT COALESCE(MAX(revoked_order), 0) + 1 FROM key_states WHERE revoked = 1',
    ].map((sql) => (raw.prepare('EXPLAIN QUERY PLAN ' + sql).all() as { detail: string }[]).map((r) => r.detail))
    for (const plan of plans) {
      expect(plan.join(' | ')).toMatch(/USING (COVERING )?INDEX key_states_revoked_order/)
      expect(plan.join(' | ')).not.toMatch(/SCAN key_states(?! USING)|TEMP B-TREE/)
    }
  })

  it('a database of schema 18 keeps its order (newest signed time first, then DID) and learns on from there', () => {
    const { dir, cleanup } = tempDir()
    cleanups.push(cleanup)
    const path = `${dir}/meshsig.db`
    const db = databaseAtSchema(path, 18)
    const old = [3_000, 1_000, 3_000, 2_000].map((ts) => revokedDid(ts))
    const put = db.prepare('INSERT INTO key_states (did, state, revoked) VALUES (?, ?, 1)')
    for (const d of old) put.run(d.events[0]!.did, JSON.stringify(d.states[1]))
    db.close()
    const before = old
      .map((d) => d.states[1]!)
      .sort((a, b) => b.revoked!.ts - a.revoked!.ts || (a.did < b.did ? -1 : 1))
      .map((s) => s.did)
    const store = openStore({ path })
    cleanups.unshift(() => store.close())
    expect(store.schemaVersion()).toBe(MIGRATIONS.length)
    expect(store.keyEvents.revoked().map((r) => r.state.did)).toEqual(before)
    const next = learn(store, revokedDid(500))
    expect(store.keyEvents.revoked().map((r) => r.state.did)).toEqual([next, ...before])
    expect(store.keyEvents.revoked()[0]!.place).toBe(5)
  })
})
