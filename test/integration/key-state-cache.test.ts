// The key states KeyEventsRepo keeps in memory (node/store/key-events-repo.ts) never hold a state
// the database does not: written through on append, forgotten when a transaction or a savepoint
// rolls back, and the same as a fresh read from SQLite after any mix of both.
import { describe, expect, it } from 'vitest'
import { applyKeyEvent, createInception, createRevocation, envelopeId, generateKeyPair } from '../../node/core/index.js'
import { openStore } from '../../node/store/index.js'
import { tempDir } from '../helpers/mesh.js'

describe('cached key states', () => {
  it('forget what a rolled-back transaction or savepoint wrote, and keep what committed', () => {
    const { dir, cleanup } = tempDir()
    const path = `${dir}/node.db`
    try {
      const store = openStore({ path })
      const key = generateKeyPair()
      const icp = createInception(key, 1_000, generateKeyPair())
      const incepted = applyKeyEvent(undefined, icp)
      expect(store.keyEvents.state(icp.did)).toBeUndefined() // a miss is cached too …
      store.transaction(() => store.keyEvents.append(icp, envelopeId(icp), incepted, 1))
      expect(store.keyEvents.state(icp.did)).toEqual(incepted) // … and replaced by the write

      const rev = createRevocation(incepted, key, 'compromised', 2_000)
      const revoked = applyKeyEvent(incepted, rev)
      expect(() =>
        store.transaction(() => {
          store.keyEvents.append(rev, envelopeId(rev), revoked, 2)
          expect(store.keyEvents.state(icp.did)).toEqual(revoked)
          throw new Error('abort')
        }),
      ).toThrow('abort')
      expect(store.keyEvents.state(icp.did)).toEqual(incepted)

      store.transaction(() => {
        try {
          store.transaction(() => {
            store.keyEvents.append(rev, envelopeId(rev), revoked, 2)
            throw new Error('inner')
          })
        } catch {
          // the savepoint rolled back; the outer transaction goes on and commits
        }
        expect(store.keyEvents.state(icp.did)).toEqual(incepted)
      })
      store.transaction(() => store.keyEvents.append(rev, envelopeId(rev), revoked, 3))
      expect(store.keyEvents.state(icp.did)).toEqual(revoked)
      store.close()

      const reopened = openStore({ path })
      expect(reopened.keyEvents.state(icp.did)).toEqual(revoked)
      reopened.close()
    } finally {
      cleanup()
    }
  })
})
