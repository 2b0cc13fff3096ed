// deploy-proxy.sh runs as root and serialises its runs with a lock file. Attack review 93 (F3): it opened
// /run/lock/meshsig-deploy-proxy.lock (a sticky, world-writable directory) with `exec 9>`, so another
// local user's symlink there made root truncate any file (with fs.protected_symlinks=0), and another
// user who created the file and held a flock on it stopped every run, --remove included. The lock is
// now in a directory only root can write. Each case runs in a private mount namespace with its own /run
// and a private network namespace (test/helpers/deploy-lock-attack.sh): nothing outside is touched.
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../cli/build-cli.js'
import { netnsName, netnsSkipReason } from '../helpers/netns.js'

const run = promisify(execFile)
const reason = netnsSkipReason(['iptables', 'setpriv', 'jq', 'unshare', 'flock'])
const ATTACK = join(REPO_ROOT, 'test', 'helpers', 'deploy-lock-attack.sh')
/** Another local user (no account needed). */
const OTHER_UID = '61941'
const cleanup: string[] = []

afterAll(() => {
  for (const p of cleanup) rmSync(p, { recursive: true, force: true })
})

describe.skipIf(reason !== undefined)("deploy-proxy.sh's lock against another local user", () => {
  it("another user's symlink at the old lock path does not make root truncate a file", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshsig-victim-'))
    cleanup.push(dir)
    const victim = join(dir, 'precious')
    const { stdout } = await run('bash', [ATTACK, 'symlink', netnsName('lock'), victim, OTHER_UID], {
      timeout: 60_000,
    })
    expect(stdout).toMatch(/^rc=0 /)
    expect(readFileSync(victim, 'utf8')).toBe('precious\n') // before the fix: '' (truncated by root)
  }, 90_000)

  it('another user holding a lock file does not stop deploy-proxy.sh', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshsig-victim-'))
    cleanup.push(dir)
    const { stdout } = await run('bash', [ATTACK, 'hold', netnsName('lock'), join(dir, 'unused'), OTHER_UID], {
      timeout: 90_000,
    })
    // before the fix: rc=1 after 30 s, "another deploy-proxy.sh is running"
    expect(stdout).toMatch(/^rc=0 /)
    expect(stdout).toMatch(/removed 0 meshsig proxy rule/)
  }, 120_000)
})
