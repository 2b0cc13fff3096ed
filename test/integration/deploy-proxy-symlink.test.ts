/**
 * deploy-proxy.sh, run as root, reads its helpers (lib/*.sh) from next to its own file (attack review 95).
 * It read them from the directory of the path it was called by: called through a symlink (an operator's
 * `ln -s …/scripts/deploy-proxy.sh /somewhere/meshsig-deploy-proxy`), whatever another user planted in a lib/
 * next to the symlink ran as root, even for --help; with nothing there, the script died.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../cli/build-cli.js'

const SCRIPT = join(REPO_ROOT, 'scripts', 'deploy-proxy.sh')
const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

describe('deploy-proxy.sh called through a symlink', () => {
  it('sources its own lib/, not one next to the symlink', () => {
    const dir = mkdtempSync(join(tmpdir(), 'r95-link-'))
    dirs.push(dir)
    symlinkSync(SCRIPT, join(dir, 'meshsig-deploy-proxy'))
    mkdirSync(join(dir, 'lib'))
    const marker = join(dir, 'planted-ran')
    writeFileSync(join(dir, 'lib', 'proxy-state.sh'), `touch ${marker}\n`)
    writeFileSync(join(dir, 'lib', 'proxy-rules.sh'), '\n')
    spawnSync('bash', [join(dir, 'meshsig-deploy-proxy'), '--help'], { stdio: 'pipe' })
    expect(existsSync(marker)).toBe(false) // it did (as root, under sudo) before
  })

  it('still works (prints its usage) with nothing next to the symlink', () => {
    const dir = mkdtempSync(join(tmpdir(), 'r95-link-'))
    dirs.push(dir)
    symlinkSync(SCRIPT, join(dir, 'meshsig-deploy-proxy'))
    const r = spawnSync('bash', [join(dir, 'meshsig-deploy-proxy'), '--help'], { stdio: 'pipe' })
    // it died on "…/lib/proxy-state.sh: No such file or directory" before
    expect(r.stderr.toString()).toMatch(/^usage: /m)
  })
})
