/**
 * WAL checkpoints on a thread of their own (node/store/checkpointer.ts,
 * decision 0030): group commits are copied into the database file by the
 * checkpointer's connection before SQLite's own checkpoint on the event loop
 * would run; closing the store ends that connection first; a checkpointer
 * that cannot start leaves checkpoints to SQLite.
 */
import { existsSync, statSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { Checkpointer } from '../../../node/store/checkpointer.js'
import { openStore, WAL_CHECKPOINT_PAGES, type Store } from '../../../node/store/index.js'
import { tempDir } from '../../helpers/mesh.js'

const cleanups: (() => void)[] = [] // run last first
afterEach(() => {
  while (cleanups.length) cleanups.pop()!()
})

function fileStore(): { store: Store; path: string } {
  const { dir, cleanup } = tempDir()
  cleanups.push(cleanup)
  const path = `${dir}/meshsig.db`
  const store = openStore({ path })
  cleanups.push(() => store.close())
  return { store, path }
}

const FRAME = 4096 + 24
const ROW = 'x'.repeat(3000) // about one page per row

/** Group commits of `rows` one-page rows each, each awaited as a client would its answer. */
async function groupCommits(store: Store, path: string, commits: number, rows: number): Promise<number> {
  let maxWal = 0
  for (let t = 0; t < commits; t++) {
    const { durable } = store.groupCommit(() => {
      for (let i = 0; i < rows; i++) {
        store.outbox.enqueue({ id: `m-${t}-${i}`, to: 'did:msig:to', envelope: ROW, now: t, expiresAt: t + 1 })
      }
    })
    await durable
    await new Promise((resolve) => setTimeout(resolve, 1))
    maxWal = Math.max(maxWal, statSync(`${path}-wal`).size)
  }
  return maxWal
}

describe('the WAL checkpointer thread', () => {
  it('copies group commits into the database file while SQLite would not checkpoint yet', async () => {
    const { store, path } = fileStore()
    const before = statSync(path).size
    await groupCommits(store, path, 10, 20) // about 200 frames: SQLite's own checkpoint waits for WAL_CHECKPOINT_PAGES
    expect(statSync(`${path}-wal`).size).toBeLessThan((WAL_CHECKPOINT_PAGES / 2) * FRAME)
    let size = statSync(path).size
    for (let i = 0; i < 100 && size < before + 200 * ROW.length; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      size = statSync(path).size
    }
    expect(size).toBeGreaterThan(before + 200 * ROW.length)
  })

  it('keeps the WAL bounded and every row under a long stream of group commits', async () => {
    const { store, path } = fileStore()
    const maxWal = await groupCommits(store, path, 600, 20) // about 48 MB of rows
    expect(statSync(path).size).toBeGreaterThan(40 * 1024 * 1024)
    expect(maxWal).toBeLessThan((WAL_CHECKPOINT_PAGES + 200) * FRAME)
    expect(store.outbox.pending()).toBe(12_000)
  }, 60_000)

  it('ends its thread with the store, leaving no WAL behind and every row in the database', async () => {
    const { dir, cleanup } = tempDir()
    cleanups.push(cleanup)
    const path = `${dir}/meshsig.db`
    const store = openStore({ path })
    await groupCommits(store, path, 20, 5)
    store.close()
    expect(existsSync(`${path}-wal`)).toBe(false)
    const reopened = openStore({ path })
    expect(reopened.outbox.pending()).toBe(100)
    reopened.close()
  })

  it('stops its thread when no commit came for a while and starts it again with the next one', async () => {
    const { store, path } = fileStore()
    const checkpointer = new Checkpointer(path, 200)
    cleanups.push(() => checkpointer.close())
    store.transaction(() => store.misc.setMetaValue('k', 'v'))
    checkpointer.nudge()
    expect(checkpointer.active).toBe(true)
    await new Promise((resolve) => setTimeout(resolve, 700))
    expect(checkpointer.active).toBe(false)
    checkpointer.nudge()
    expect(checkpointer.active).toBe(true)
  })

  it('that cannot open the database stays off: checkpoints are left to SQLite on the event loop', async () => {
    const { dir, cleanup } = tempDir()
    cleanups.push(cleanup)
    const checkpointer = new Checkpointer(`${dir}/missing.db`)
    cleanups.push(() => checkpointer.close())
    checkpointer.nudge()
    expect(checkpointer.active).toBe(true)
    for (let i = 0; i < 200 && checkpointer.active; i++) await new Promise((resolve) => setTimeout(resolve, 25))
    expect(checkpointer.active).toBe(false)
    checkpointer.nudge()
    expect(checkpointer.active).toBe(false)
  })
})
