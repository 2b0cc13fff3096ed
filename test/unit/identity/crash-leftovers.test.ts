/**
 * Attack review H2 F4: a process killed between writing a key file's temp
 * copy and renaming it leaves `.<name>.<pid>.<hex>.tmp` behind, 0600 but
 * forever, possibly holding a key. A node removes those of dead writers when
 * it opens its store, and leaves a live writer's alone.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { removeCrashLeftovers } from '../../../node/identity/index.js'
import { openNodeStore } from '../../../node/node-store.js'

let home: string
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'meshsig-leftovers-'))
})
afterEach(() => rmSync(home, { recursive: true, force: true }))

/** The pid of a process that has exited. */
function deadPid(): number {
  const pid = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString()
  return Number(pid)
}

describe('crash leftovers in the home', () => {
  it('removes the temp files of writers that are gone, and nothing else', async () => {
    const dead = deadPid()
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'])
    try {
      const files = {
        deadLogKey: `.log.key.${dead}.0123456789ab.tmp`,
        deadIdentity: `.identity.json.${dead}.a1b2c3d4e5f6.tmp`,
        liveWriter: `.identity.json.${live.pid ?? 0}.a1b2c3d4e5f6.tmp`,
        ownWriter: `.api-token.${process.pid}.a1b2c3d4e5f6.tmp`,
        notOurs: `.notes.${dead}.tmp`,
        plain: 'identity.json',
      }
      for (const f of Object.values(files)) writeFileSync(join(home, f), 'secret', { mode: 0o600 })
      expect(removeCrashLeftovers(home).sort()).toEqual([files.deadIdentity, files.deadLogKey].sort())
      expect(readdirSync(home).sort()).toEqual([files.liveWriter, files.ownWriter, files.notOurs, files.plain].sort())
    } finally {
      live.kill()
    }
  })

  it('are removed when a node opens its store in the home', () => {
    const leftover = join(home, `.log.key.${deadPid()}.0123456789ab.tmp`)
    writeFileSync(leftover, 'a log key seed', { mode: 0o600 })
    const store = openNodeStore({ dbPath: join(home, 'meshsig.db'), home })
    try {
      expect(existsSync(leftover)).toBe(false)
    } finally {
      store.close()
    }
  })

  it('a folder that cannot be read removes nothing and does not throw', () => {
    expect(removeCrashLeftovers(join(home, 'absent'))).toEqual([])
  })
})
