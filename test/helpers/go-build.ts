/**
 * Build one of the Go checkers under test/interop offline: Debian's
 * golang-go and golang-golang-x-mod-dev (GOPATH /usr/share/gocode), no
 * modules, no proxy (test/global-setup.ts names the packages).
 */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { REPO_ROOT } from '../cli/build-cli.js'

/** Compile `test/interop/<name>` into `outDir` (its Go build cache there too); returns the binary's path. */
export function buildGoInterop(name: string, outDir: string): string {
  const bin = join(outDir, name)
  const env = {
    ...process.env,
    GOPATH: '/usr/share/gocode',
    GO111MODULE: 'off',
    GOFLAGS: '',
    GOPROXY: 'off',
    GOCACHE: join(outDir, 'gocache'),
  }
  const build = spawnSync('go', ['build', '-o', bin, '.'], {
    cwd: join(REPO_ROOT, 'test/interop', name),
    env,
    encoding: 'utf8',
  })
  if (build.status !== 0) throw new Error(`go build of test/interop/${name} failed: ${build.stderr}`)
  return bin
}
