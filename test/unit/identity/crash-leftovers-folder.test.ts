/**
 * Review H7 F4: a folder (or a link) named like a killed writer's temp file
 * is not a leftover: removing it threw ERR_FS_EISDIR out of openNodeStore,
 * after the store was opened, so the node could not start and left the store
 * locked. Only regular files are removed, and no leftover stops a start.
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
