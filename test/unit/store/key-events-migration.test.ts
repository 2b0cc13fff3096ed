import { databaseAtSchema } from '../../helpers/schema-at.js'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createInception,
  createRevocation,
  createRotation,
  envelopeId,
  generateKeyPair,
  replayKeyEvents,
  type KeyEvent,
  type KeyState,
} from '../../../node/core/index.js'
import { MIGRATIONS } from '../../../node/store/migrations.js'
import { openStore } from '../../../node/store/index.js'
import { tempDir } from '../../helpers/mesh.js'

const cleanups: (() => void)[] = []
afterEach(() => {
  while (cleanups.length) cleanups.pop()!()
})

const k0 = generateKeyPair()
const k1 = generateKeyPair()
const k2 = generateKeyPair()
const controller = generateKeyPair()
const icp = createInception(k0, 1_000, k1)
const rot = createRotation(replayKeyEvents([icp]), k0, k1, 2_000, k2)
const afterRot = replayKeyEvents([icp, rot])
const rev = createRevocation(afterRot, controller, 'retired', 3_000)

/** A database as schema 10 left it: a DID revoked by its controller, its state moved to the revocation's seq. */
function schema10(path: string): void {
  const db = databaseAtSchema(path, 10)
  const put = db.prepare('INSERT INTO key_events (did, seq, id, type, envelope, received_at) VALUES (?, ?, ?, ?, ?, 1)')
  for (const e of [icp, rot, rev] as KeyEvent[]) put.run(e.did, e.seq, envelopeId(e), e.type, JSON.stringify(e))
  const old: KeyState = {
    ...afterRot,
    seq: 2,
    lastId: envelopeId(rev),
    revoked: { reason: 'retired', ts: 3_000, by: 'controller' },
  }
  db.prepare('INSERT INTO key_states (did, state, revoked) VALUES (?, ?, 1)').run(icp.did, JSON.stringify(old))
  // what schema 10 recorded when a rotation at seq 2 arrived after the revocation, and a real duplicity at seq 1
  const dup = db.prepare(
    'INSERT INTO duplicity (did, seq, existing_id, conflicting_id, envelope, detected_at) VALUES (?, ?, ?, ?, ?, 1)',
  )
  dup.run(icp.did, 2, envelopeId(rev), 'a'.repeat(64), '{}')
  dup.run(icp.did, 1, envelopeId(rot), 'b'.repeat(64), '{}')
  db.close()
}

describe('migration 11: a revocation by the controller beside the DID’s own events (docs/protocol.md §6)', () => {
  it('keeps every event, points a controller-revoked state back at the DID’s own last event, drops the false duplicity, and takes a raced revocation', () => {
    const { dir, cleanup } = tempDir()
    cleanups.push(cleanup)
    const path = `${dir}/meshsig.db`
    schema10(path)
    const store = openStore({ path })
    cleanups.unshift(() => store.close())
    expect(store.schemaVersion()).toBe(MIGRATIONS.length)
    expect(store.keyEvents.log(icp.did)).toEqual([icp, rot, rev])
    expect(store.keyEvents.duplicities(icp.did).map((d) => d.conflictingId)).toEqual(['b'.repeat(64)])
    expect(store.keyEvents.state(icp.did)).toMatchObject({
      seq: 1,
      lastId: envelopeId(rot),
      revoked: { by: 'controller' },
    })
    // a DID's own event and its controller's revocation at one seq, side by side
    const [o0, o1] = [generateKeyPair(), generateKeyPair()]
    const other = createInception(o0, 1_000, o1)
    const otherRot = createRotation(replayKeyEvents([other]), o0, o1, 2_000, generateKeyPair())
    const raced = createRevocation(replayKeyEvents([other]), controller, 'raced', 3_000)
    for (const e of [other, otherRot, raced] as KeyEvent[]) {
      store.keyEvents.append(e, envelopeId(e), replayKeyEvents([other, otherRot]), 1)
    }
    expect(store.keyEvents.log(other.did).map((e) => e.type)).toEqual(['icp', 'rot', 'rev'])
    expect(store.keyEvents.eventIdAt(other.did, 1)).toBe(envelopeId(otherRot))
    expect(store.keyEvents.byId(envelopeId(raced))).toEqual(raced)
  })
})
