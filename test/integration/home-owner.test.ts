/**
 * Review 115, F3: another local user creates the meshsig home first (a 0700
 * folder of its own in a shared place, e.g. /tmp) and a node run as root used
 * it: ensurePrivateDir checked the folder's mode, never its owner. As the
 * folder's owner the attacker then replaced api-token (or identity.json,
 * custody.key) with a file of its own, which the node read at start:
 * measured, a token the attacker wrote signed a checkpoint on demand. Fixed
 * (decision 0083): a home, key or token file owned by another user is refused
 * (exit 2, INSECURE_KEY_FILE) and nothing is written into it.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { OTHER_USER_SKIP, runAsOther } from '../helpers/other-user.js'

const MAIN = resolve(__dirname, '../../dist/main.js')
const shared = mkdtempSync(join(tmpdir(), 'meshsig-shared-'))
chmodSync(shared, 0o1777)

afterAll(() => rmSync(shared, { recursive: true, force: true }))

describe.skipIf(OTHER_USER_SKIP !== undefined)('a home folder another user owns (review 115 F3)', () => {
  it('is refused by init, and no secret is written into it', () => {
    const home = join(shared, 'meshsig')
    expect(runAsOther('sh', ['-c', `umask 077; mkdir ${home}`]).status).toBe(0)
    const init = spawnSync(process.execPath, [MAIN, 'init', '--json'], {
      env: { ...process.env, MESHSIG_HOME: home },
      encoding: 'utf8',
    })
    expect({ status: init.status, token: existsSync(join(home, 'api-token')) }).toEqual({ status: 2, token: false })
    expect(init.stderr + init.stdout).toMatch(/INSECURE_KEY_FILE|owned by/)
  })
})
