/**
 * A WAL sync that fails (attack review H2 F2): the group commit
 * (node/store/transaction.ts) commits at synchronous=NORMAL, so a batch's
 * frames are in the WAL, visible and built upon, before fdatasync. When that
 * sync fails the batch's callers are told, but its frames stay; and Linux
 * reports a writeback error once, so a later sync that "succeeds" proves
 * nothing about them. After a power loss, recovery stops at the first frame
 * that never reached the disk and drops every commit after it. So the store
 * fails-stop: after one failed sync nothing more is written or acknowledged,
 * not even a write outside a transaction (the connection turns read-only),
 * and the node says so (`info().status` is `failed`, `GET /health` 503), so a
 * supervisor restarts it (review H7 F2, F3; decision 0093).
 */
import { describe, expect, it, vi } from 'vitest'

let failNext = 0
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>()
  const fdatasync = (fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void => {
    if (failNext > 0) {
      failNext--
      const err = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }) as NodeJS.ErrnoException
      setImmediate(() => cb(err))
      return
    }
    fs.fdatasync(fd, cb)
  }
  return { ...fs, default: { ...fs, fdatasync }, fdatasync }
})

const { openStore } = await import('../../node/store/index.js')
const { startNode, tempDir } = await import('../helpers/mesh.js')

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return (err as { code?: string }).code
  }
  return undefined
}

describe('a failed WAL sync', () => {
  it('stops every later write: none is acknowledged on frames that may never reach the disk', async () => {
    const { dir, cleanup } = tempDir()
    const store = openStore({ path: `${dir}/node.db` })
    try {
      const before = store.groupCommit(() => store.misc.setMetaValue('batch', 'zero'))
      await before.durable // a sync that works: nothing is stopped
      failNext = 1
      const first = store.groupCommit(() => store.misc.setMetaValue('batch', 'one'))
      await expect(first.durable).rejects.toThrow('EIO') // its callers are told
      // every later write, group-committed or not, is refused with INTERNAL and writes nothing
      expect(codeOf(() => store.groupCommit(() => store.misc.setMetaValue('batch2', 'two')))).toBe('INTERNAL')
      expect(codeOf(() => store.transaction(() => store.misc.setMetaValue('batch3', 'three')))).toBe('INTERNAL')
      expect(store.misc.meta('batch2')).toBeUndefined()
      expect(store.misc.meta('batch3')).toBeUndefined()
      // the message says what to do; reads still answer
      expect(() => store.transaction(() => 0)).toThrow(/could not sync its log to disk.*restart the node/)
      expect(store.misc.meta('batch')).toBe('one')
    } finally {
      store.close()
      cleanup()
    }
  })
})

describe('after a failed WAL sync (review H7 F2, F3)', () => {
  it('a write outside a transaction is refused too', async () => {
    const { dir, cleanup } = tempDir()
    const store = openStore({ path: `${dir}/node.db` })
    try {
      failNext = 1
      const failed = store.groupCommit(() => store.misc.setMetaValue('batch', 'one'))
      await expect(failed.durable).rejects.toThrow('EIO')
      expect(() => store.transaction(() => store.misc.setMetaValue('t', 'x'))).toThrow(/could not sync/)
      // the same write without a transaction: committed on frames that may never reach the disk
      let refused = false
      try {
        store.misc.setMetaValue('autocommit', 'written')
      } catch {
        refused = true
      }
      expect({ refused, written: store.misc.meta('autocommit') }).toEqual({ refused: true, written: undefined })
    } finally {
      failNext = 0
      store.close()
      cleanup()
    }
  })

  it('the node says it stopped writing (/health is not "ok")', async () => {
    const { dir, cleanup } = tempDir()
    const node = await startNode({ dbPath: `${dir}/node.db` })
    try {
      await node.registerAgent('before')
      failNext = 1
      await expect(node.registerAgent('during')).rejects.toMatchObject({ code: 'INTERNAL' })
      await expect(node.registerAgent('after')).rejects.toMatchObject({ code: 'INTERNAL' })
      expect(node.info().status).not.toBe('ok')
    } finally {
      failNext = 0
      await node.stop().catch(() => undefined)
      cleanup()
    }
  })
})
