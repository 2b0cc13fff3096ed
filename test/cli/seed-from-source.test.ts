/**
 * The seed README's from-source path: after `npm install && npm run build`
 * it starts the node with `node dist/main.js start`. The build writes
 * dist/main.js (scripts/bundle.mjs), which runs the bundled `meshsig` CLI of
 * dist/bin/. Reads the build in dist/, as `npm test` makes it first.
 */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from './build-cli.js'

function runMain(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'dist', 'main.js'), ...args], { encoding: 'utf8' })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('node dist/main.js (the seed README from source)', () => {
  it('is the meshsig CLI: --version names meshsig and its version', () => {
    const r = runMain(['--version'])
    expect(r.stderr).not.toContain('Cannot find module')
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^meshsig\/\d+\.\d+\.\d+/)
  })

  it('runs the same commands as dist/bin/meshsig.js (help lists start and verify)', () => {
    const r = runMain(['--help'])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^\s+start\b/m)
    expect(r.stdout).toMatch(/^\s+verify <message> <signature> <signer>/m)
  })
})
