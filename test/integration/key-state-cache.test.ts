// The key states KeyEventsRepo keeps in memory, and the opened custody rows of CustodyRepo, (node/store/key-events-repo.ts) never hold a state
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

  it('opened custody rows: a rolled-back rotation or revocation is never seen, a committed one always is', () => {
    const { dir, cleanup } = tempDir()
    const path = `${dir}/node.db`
    const custodyKey = new Uint8Array(32).fill(7)
    const seeds = [1, 2, 3, 4].map((n) => Buffer.alloc(32, n).toString('base64'))
    const b64 = (name: string): string => seeds[Number(name.slice(5)) - 1]!
    const row = (seed: string, next: string | null) => ({
      did: 'did:msig:custody-cache',
      seed: b64(seed),
      nextSeed: next === null ? null : b64(next),
      createdAt: 5,
    })
    try {
      const store = openStore({ path, custodyKey })
      store.transaction(() => store.custody.put(row('seed-1', 'seed-2')))
      expect(store.custody.get('did:msig:custody-cache')?.seed).toBe(b64('seed-1')) // opened and kept

      // a rotation (put of the next seeds) that rolls back, at the top level and as a savepoint
      expect(() =>
        store.transaction(() => {
          store.custody.put(row('seed-2', 'seed-3'))
          expect(store.custody.get('did:msig:custody-cache')?.seed).toBe(b64('seed-2'))
          throw new Error('abort')
        }),
      ).toThrow('abort')
      expect(store.custody.get('did:msig:custody-cache')).toMatchObject({
        seed: b64('seed-1'),
        nextSeed: b64('seed-2'),
      })
      store.transaction(() => {
        try {
          store.transaction(() => {
            store.custody.forget('did:msig:custody-cache')
            expect(store.custody.get('did:msig:custody-cache')).toBeUndefined()
            throw new Error('inner')
          })
        } catch {
          // the savepoint rolled back; the outer transaction commits
        }
        expect(store.custody.get('did:msig:custody-cache')?.seed).toBe(b64('seed-1'))
      })

      // a committed rotation keeps the first created_at, as stored; a committed revocation destroys the seed
      store.transaction(() => store.custody.put({ ...row('seed-2', 'seed-3'), createdAt: 99 }))
      expect(store.custody.get('did:msig:custody-cache')).toMatchObject({
        seed: b64('seed-2'),
        nextSeed: b64('seed-3'),
        createdAt: 5,
      })
      store.transaction(() => store.custody.forget('did:msig:custody-cache'))
      expect(store.custody.get('did:msig:custody-cache')).toBeUndefined()
      store.close()

      const reopened = openStore({ path, custodyKey })
      expect(reopened.custody.get('did:msig:custody-cache')).toBeUndefined()
      reopened.close()
    } finally {
      cleanup()
    }
  })

  it("agents' hosts: a rolled-back re-registration under another host is never seen", () => {
    const { dir, cleanup } = tempDir()
    try {
      const store = openStore({ path: `${dir}/node.db` })
      const agent = (peerId: string) => ({
        did: 'did:msig:host-cache',
        name: 'a',
        capabilities: [],
        controller: 'did:msig:controller',
        peerId,
        origin: 'remote' as const,
        regId: peerId,
        regEnvelope: '{}',
        regTs: 1,
        createdAt: 1,
        lastSeenAt: 1,
      })
      expect(store.agents.hostOf('did:msig:host-cache')).toBeUndefined()
      store.transaction(() => store.agents.upsert(agent('peer-1')))
      expect(store.agents.hostOf('did:msig:host-cache')).toBe('peer-1') // read and kept
      expect(() =>
        store.transaction(() => {
          store.agents.upsert(agent('peer-2'))
          expect(store.agents.hostOf('did:msig:host-cache')).toBe('peer-2') // written through
          throw new Error('abort')
        }),
      ).toThrow('abort')
      expect(store.agents.hostOf('did:msig:host-cache')).toBe('peer-1')
      store.transaction(() => store.agents.upsert(agent('peer-3')))
      expect(store.agents.hostOf('did:msig:host-cache')).toBe('peer-3')
      expect(store.agents.get('did:msig:host-cache')?.peerId).toBe('peer-3')
      store.close()
    } finally {
      cleanup()
    }
  })
})
