// The group commit (node/store/transaction.ts) on a real database file: the transaction is
// committed at once, `durable` resolves once the WAL is synced, the data survives a reopen,
// and every other transaction keeps synchronous=FULL.
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { openStore } from '../../node/store/index.js'
import { groupCommitRunner, transactionRunner, WalFlusher } from '../../node/store/transaction.js'
import { tempDir } from '../helpers/mesh.js'

describe('group commit', () => {
  it('commits now, is durable when its sync resolves, and survives a reopen', async () => {
    const { dir, cleanup } = tempDir()
    try {
      const path = `${dir}/node.db`
      let store = openStore({ path })
      const { result, durable } = store.groupCommit(() => {
        store.misc.setMetaValue('group', 'one')
        return 42
      })
      expect(result).toBe(42)
      expect(store.misc.meta('group')).toBe('one')
      await expect(durable).resolves.toBeUndefined()
      expect(() => store.transaction(() => store.groupCommit(() => 1))).toThrow(TypeError)
      store.close()
      store = openStore({ path })
      expect(store.misc.meta('group')).toBe('one')
      store.close()
    } finally {
      cleanup()
    }
  })

  it('restores synchronous=FULL after each group commit, also when it throws', () => {
    const { dir, cleanup } = tempDir()
    const db = new Database(`${dir}/x.db`)
    try {
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = FULL')
      db.exec('CREATE TABLE t (v INTEGER)')
      const flusher = new WalFlusher(`${dir}/x.db-wal`)
      const group = groupCommitRunner(db, transactionRunner(db), flusher)
      void group(() => db.prepare('INSERT INTO t VALUES (1)').run()).durable
      expect(db.pragma('synchronous', { simple: true })).toBe(2)
      expect(() =>
        group(() => {
          db.prepare('INSERT INTO t VALUES (2)').run()
          throw new Error('refused')
        }),
      ).toThrow('refused')
      expect(db.pragma('synchronous', { simple: true })).toBe(2)
      expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 1 })
      flusher.close()
    } finally {
      db.close()
      cleanup()
    }
  })

  it('coalesces flushes asked for while one runs, and each resolves after a sync that began after it', async () => {
    const { dir, cleanup } = tempDir()
    try {
      const store = openStore({ path: `${dir}/node.db` })
      const order: string[] = []
      const flushes = Array.from({ length: 20 }, (_, i) =>
        store.groupCommit(() => store.misc.setMetaValue(`k${i}`, String(i))).durable.then(() => order.push(`k${i}`)),
      )
      await Promise.all(flushes)
      expect(order).toHaveLength(20)
      store.close()
    } finally {
      cleanup()
    }
  })
})
