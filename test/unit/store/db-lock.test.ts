// One node per database and per home (decision 0042): the lock holds whatever spelling of the path
// (a symbolic link), for another database in the same home (`--db`), and after a refused second open in
// the same process (POSIX drops a process's lock when it closes any descriptor of the file). Found by the
// attack review of stop 32. Another process checks the lock the way SQLite sees it.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openStore, type Store } from '../../../node/store/index.js'

const sqlite = createRequire(import.meta.url).resolve('better-sqlite3')
let dir: string
let open: Store[]

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'meshsig-lock-'))
  open = []
})
afterEach(() => {
  open.forEach((s) => s.close())
  rmSync(dir, { recursive: true, force: true })
})

const openAt = (path: string, home?: string): Store => {
  const s = openStore({ path, ...(home !== undefined ? { home } : {}) })
  open.push(s)
  return s
}
const codeOf = (f: () => unknown): string | undefined => {
  try {
    f()
    return undefined
  } catch (err) {
    return (err as { code?: string }).code
  }
}

/** Whether another process could take the lock of `lockFile` now. */
function freeForAnotherProcess(lockFile: string): boolean {
  const script = `const D = require(${JSON.stringify(sqlite)}); const db = new D(${JSON.stringify(lockFile)});
    db.pragma('busy_timeout = 0'); try { db.exec('BEGIN EXCLUSIVE'); process.stdout.write('free') }
    catch { process.stdout.write('held') }`
  return spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' }).stdout === 'free'
}

describe('the lock of a store', () => {
  it('refuses a second store on the same file, also through a symbolic link', () => {
    const db = join(dir, 'meshsig.db')
    openAt(db)
    expect(codeOf(() => openAt(db))).toBe('ALREADY_EXISTS')
    symlinkSync(db, join(dir, 'alias.db'))
    expect(codeOf(() => openAt(join(dir, 'alias.db')))).toBe('ALREADY_EXISTS')
    expect(freeForAnotherProcess(`${db}.lock`)).toBe(false) // the refusals in this process kept the lock
  })

  it('refuses another database in the same home, and frees both locks on close', () => {
    const first = openAt(join(dir, 'meshsig.db'), dir)
    expect(codeOf(() => openAt(join(dir, 'second.db'), dir))).toBe('ALREADY_EXISTS')
    expect(freeForAnotherProcess(join(dir, 'node.lock'))).toBe(false)
    first.close()
    open = []
    expect(freeForAnotherProcess(join(dir, 'node.lock'))).toBe(true)
    openAt(join(dir, 'second.db'), dir) // the home is free again
    // an in-memory database takes the home's lock too: the same identity must not sign a second log
    expect(codeOf(() => openAt(':memory:', dir))).toBe('ALREADY_EXISTS')
  })
})
