/**
 * H7 review PoC (42d241d): removeCrashLeftovers calls rmSync without
 * `recursive` on every name that matches the temp-file pattern. A folder
 * with such a name (made by hand, by a backup/restore tool, or by a mistaken
 * `mkdir`) makes rmSync throw ERR_FS_EISDIR, out of openNodeStore, after the
 * store was opened: the node cannot start, and the store it opened is left
 * open and locked in the process. Fails now.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { removeCrashLeftovers } from '../../../node/identity/index.js'
import { openNodeStore } from '../../../node/node-store.js'

let home: string
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'meshsig-leftovers-dir-'))
})
afterEach(() => rmSync(home, { recursive: true, force: true }))

function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString())
}

describe('a folder named like a crash leftover', () => {
  it('does not make removeCrashLeftovers throw', () => {
    mkdirSync(join(home, `.identity.json.${deadPid()}.0123456789ab.tmp`))
    expect(() => removeCrashLeftovers(home)).not.toThrow()
  })

  it('does not keep a node from opening its store (nor leave that store locked)', () => {
    mkdirSync(join(home, `.log.key.${deadPid()}.0123456789ab.tmp`))
    const open = () => openNodeStore({ dbPath: join(home, 'meshsig.db'), home })
    let store: ReturnType<typeof openNodeStore> | undefined
    expect(() => {
      store = open()
    }).not.toThrow()
    store?.close()
  })
})
