/**
 * Review H7 F2 and F3 (fail-stop after a failed WAL sync, decision 0093):
 * 1. a write made outside any transaction (the outbox's retry times, sync
 *    penalties, cosignature notes: autocommit statements) is refused too: the
 *    connection turns read-only when the sync fails;
 * 2. the node says it stopped writing: `info().status` is `failed` (and
 *    `GET /health` answers 503), so the Dockerfile's HEALTHCHECK and any
 *    supervisor restart it, as PostgreSQL is restarted after its PANIC.
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

describe('after a failed WAL sync (H7 review)', () => {
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
