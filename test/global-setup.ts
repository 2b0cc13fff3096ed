/**
 * Vitest global setup: runs once per `vitest run`, in the main process, before any test file
 * (not per worker). It makes sure the machine has what the suites need — Chromium for the
 * dashboard and verifier end-to-end tests, iptables and iproute2 for the signing proxy in a
 * network namespace, jq and curl for the agent scripts, useradd and setpriv for a second OS
 * user, and (optional: installed when it can be, never a reason to stop) podman, runc and
 * debootstrap for the container test — so that `npm test` on a fresh Debian machine runs every
 * suite instead of failing or skipping some. When something is missing it installs the Debian
 * packages if it can (root with apt-get), saying so in one line; otherwise it stops the run at
 * once with one line naming exactly what to install. When everything is present it only looks
 * at a few files.
 */
import { spawnSync } from 'node:child_process'
import { accessSync, constants, existsSync, statSync } from 'node:fs'
import { delimiter, isAbsolute, join } from 'node:path'

/** One thing a suite needs from the system, and the Debian package that provides it. */
export interface SystemRequirement {
  /** A command looked up on PATH (and the sbin folders), or an absolute path to an executable. */
  readonly command: string
  /** The Debian package that provides it. */
  readonly debianPackage: string
  /** Who needs it, for the reader of this list. */
  readonly neededBy: string
  /** Only needed on Linux (network namespaces, iptables, OS users). */
  readonly linuxOnly?: boolean
  /** `command` is a file the package installs (a library source), not a program. */
  readonly dataFile?: boolean
  /** Installed when the run can (root with apt-get), never a reason to stop: its test skips and says why. */
  readonly optional?: boolean
}

/**
 * Native addons that a test builds (better-sqlite3 in the pack test's fresh install) build against
 * Node's own headers when the machine ships them, as .ci/run does for `npm ci`: a fresh HOME has no
 * node-gyp header cache and no network to download one. The test workers inherit this environment.
 */
function useSystemNodeHeaders(): void {
  if (process.env.npm_config_nodedir === undefined && existsSync('/usr/include/node/node.h')) {
    process.env.npm_config_nodedir = '/usr'
  }
}

/** What the suites need: keep in step with the tests that shell out. */
export const SYSTEM_REQUIREMENTS: readonly SystemRequirement[] = [
  {
    command: process.env.MESHSIG_CHROMIUM ?? '/usr/bin/chromium',
    debianPackage: 'chromium',
    neededBy: 'test/e2e/dashboard.test.ts, test/e2e/verifier.test.ts (playwright-core drives it)',
  },
  { command: 'iptables', debianPackage: 'iptables', neededBy: 'test/e2e/proxy-netns.test.ts', linuxOnly: true },
  { command: 'ip', debianPackage: 'iproute2', neededBy: 'test/e2e/proxy-netns.test.ts (ip netns)', linuxOnly: true },
  { command: 'jq', debianPackage: 'jq', neededBy: 'scripts/*.sh (test/integration/proxy-scripts.test.ts)' },
  { command: 'curl', debianPackage: 'curl', neededBy: 'scripts/*.sh (test/integration/proxy-scripts.test.ts)' },
  { command: 'useradd', debianPackage: 'passwd', neededBy: 'tests that run as a second OS user', linuxOnly: true },
  { command: 'setpriv', debianPackage: 'util-linux', neededBy: 'tests that run as a second OS user', linuxOnly: true },
  { command: 'sysctl', debianPackage: 'procps', neededBy: 'test/e2e/proxy-syncookie.test.ts', linuxOnly: true },
  {
    command: 'go',
    debianPackage: 'golang-go',
    neededBy: 'test/integration/audit-go-interop.test.ts, merkle-proofs-go-tlog.test.ts (go build, offline)',
  },
  {
    command: '/usr/share/gocode/src/golang.org/x/mod/sumdb/note/note.go',
    debianPackage: 'golang-golang-x-mod-dev',
    neededBy: 'test/interop/notecheck and tlogcases (golang.org/x/mod/sumdb/note and tlog)',
    dataFile: true,
  },
  // the container test (test/e2e/container.test.ts): podman with runc (crun refuses hybrid cgroups)
  {
    command: 'podman',
    debianPackage: 'podman',
    neededBy: 'test/e2e/container.test.ts',
    linuxOnly: true,
    optional: true,
  },
  { command: 'runc', debianPackage: 'runc', neededBy: 'test/e2e/container.test.ts', linuxOnly: true, optional: true },
  {
    command: 'debootstrap',
    debianPackage: 'debootstrap',
    neededBy: 'scripts/container-base.sh (node:22-slim where no registry image can be pulled)',
    linuxOnly: true,
    optional: true,
  },
]

/** Root's tools live in the sbin folders, which a user's PATH often leaves out. */
const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin']

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return statSync(path).isFile()
  } catch {
    return false
  }
}

/** Whether `command` (a name on PATH or an absolute path) can be run. */
export function hasCommand(command: string, path = process.env.PATH ?? ''): boolean {
  if (isAbsolute(command)) return isExecutableFile(command)
  const folders = [...path.split(delimiter).filter(Boolean), ...SBIN]
  return folders.some((folder) => isExecutableFile(join(folder, command)))
}

/** The requirements this machine does not meet. */
export function missingRequirements(
  requirements: readonly SystemRequirement[] = SYSTEM_REQUIREMENTS,
  platform: NodeJS.Platform = process.platform,
): SystemRequirement[] {
  return requirements.filter(
    (r) => (platform === 'linux' || !r.linuxOnly) && !(r.dataFile ? existsSync(r.command) : hasCommand(r.command)),
  )
}

function packagesOf(missing: readonly SystemRequirement[]): string[] {
  return [...new Set(missing.map((r) => r.debianPackage))]
}

function describeMissing(missing: readonly SystemRequirement[]): string {
  return missing.map((r) => r.command).join(', ')
}

/** The one line a run stops with: what is missing, and the command that installs it. */
export function installAdvice(missing: readonly SystemRequirement[], why = ''): string {
  const packages = packagesOf(missing).join(' ')
  return (
    `meshsig tests: missing ${describeMissing(missing)}${why ? ` (${why})` : ''}; ` +
    `install them with: sudo apt-get install --no-install-recommends ${packages}`
  )
}

/** The last meaningful line apt printed, to say why it failed. */
function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
  return lines.at(-1) ?? 'no output'
}

/** Run apt-get quietly; undefined when it succeeded, else why it failed (one line). */
function aptGet(args: readonly string[]): string | undefined {
  const result = spawnSync('apt-get', ['-qq', '-o', 'DPkg::Lock::Timeout=300', ...args], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
  if (result.error) return result.error.message
  if (result.status !== 0) return `apt-get ${args[0]}: ${lastLine(result.stderr || result.stdout)}`
  return undefined
}

/**
 * Stop the run with one line, before any worker starts. Not a thrown error: vitest would wrap
 * it in a banner and add "No test files found", which reads like a different problem.
 */
function fail(line: string): never {
  process.stderr.write(line + '\n')
  process.exit(1)
}

/** Vitest's global setup hook (`setup`): provision or stop, once per run. */
export function setup(): void {
  useSystemNodeHeaders()
  const missing = missingRequirements()
  if (missing.length === 0) return
  const required = missing.filter((r) => !r.optional)
  const root = process.getuid?.() === 0
  if (!root || process.platform !== 'linux' || !hasCommand('apt-get')) {
    if (required.length === 0) return // only optional ones: their tests skip and say why
    fail(installAdvice(required, root ? 'no apt-get here' : 'not root, so not installing them'))
  }
  const packages = packagesOf(missing)
  console.log(`meshsig tests: installing Debian packages ${packages.join(' ')} (missing ${describeMissing(missing)})`)
  // A failed update (offline, say) is worth one try of the install from the lists already here.
  const updateError = aptGet(['update'])
  let installError = aptGet(['install', '-y', '--no-install-recommends', ...packages])
  // optional packages that cannot be installed must not stop the run: retry with the required ones only
  if (installError !== undefined && required.length < missing.length) {
    console.log(
      `meshsig tests: could not install ${packagesOf(missing.filter((r) => r.optional)).join(' ')}; their tests skip`,
    )
    installError =
      required.length === 0 ? undefined : aptGet(['install', '-y', '--no-install-recommends', ...packagesOf(required)])
  }
  if (installError !== undefined) fail(installAdvice(required, [updateError, installError].filter(Boolean).join('; ')))
  const still = missingRequirements().filter((r) => !r.optional)
  if (still.length > 0) fail(installAdvice(still, 'still missing after apt-get install'))
}
