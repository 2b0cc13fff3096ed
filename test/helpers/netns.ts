/**
 * What the proxy's end-to-end tests need of the machine (Linux, root, `ip
 * netns` and the named tools: iptables, setpriv, jq, …; `npm test` installs
 * them on a fresh Debian machine, test/global-setup.ts; elsewhere a test says
 * why it skipped), and a `Netns` that runs programs in a namespace of its own.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import { REPO_ROOT } from '../cli/build-cli.js'

const run = promisify(execFile)

/** Why a network-namespace test cannot run here, or undefined when it can. */
export function netnsSkipReason(tools: readonly string[]): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces and iptables are Linux-only'
  if (process.getuid?.() !== 0) return `needs root (ip netns, ${tools.join(', ')})`
  try {
    for (const tool of tools) execFileSync(tool, ['--version'], { stdio: 'pipe' })
    execFileSync('ip', ['netns', 'list'], { stdio: 'pipe' })
  } catch {
    return `\`ip netns\` or one of ${tools.join(', ')} is unavailable`
  }
  return undefined
}

/**
 * A fresh network namespace name: `<prefix>-<tag>-<6 hex>`, the prefix `MESHSIG_NETNS_PREFIX` or
 * `meshsig`, so whoever runs the tests can tell their namespaces from others' (and delete only theirs).
 */
export function netnsName(tag: string): string {
  return `${process.env.MESHSIG_NETNS_PREFIX ?? 'meshsig'}-${tag}-${randomBytes(3).toString('hex')}`
}

/** A program started in the namespace, and all it wrote to stdout and stderr so far. */
export interface NsChild {
  readonly child: ChildProcess
  readonly out: () => string
}

/** End `child` with `signal` (SIGTERM) and wait for its exit; nothing when it has exited. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill(signal)
  await exited
}

/**
 * A network namespace of a test suite, named by `tag` (`netnsName`): `create` adds it with its
 * loopback up, `exec` and `spawn` run programs in it, `asUid` a Node program as another OS user,
 * and `destroy` stops every program it spawned and deletes the namespace.
 */
export class Netns {
  readonly name: string
  private readonly children: ChildProcess[] = []
  private created = false

  constructor(tag: string) {
    this.name = netnsName(tag)
  }

  /** Add the namespace and bring its loopback up. */
  async create(): Promise<void> {
    execFileSync('ip', ['netns', 'add', this.name])
    this.created = true
    await this.exec('ip', ['link', 'set', 'lo', 'up'])
  }

  /** Run `command` in the namespace (from the repository root) and wait for its output. */
  exec(
    command: string,
    args: readonly string[],
    env: Record<string, string> = {},
  ): Promise<{ stdout: string; stderr: string }> {
    return run('ip', ['netns', 'exec', this.name, command, ...args], {
      cwd: REPO_ROOT,
      timeout: 30_000,
      env: { ...process.env, ...env },
    })
  }

  /** Start `command` (its first word the program) in the namespace; stopped by `destroy`. */
  spawn(command: readonly string[], env: Record<string, string> = {}): NsChild {
    let out = ''
    const child = spawn('ip', ['netns', 'exec', this.name, ...command], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()))
    this.children.push(child)
    return { child, out: () => out }
  }

  /** Start the Node `program` (ES module text) in the namespace as OS user `uid` (its group too, no others). */
  asUid(uid: number, program: string, env: Record<string, string> = {}): NsChild {
    const node = [process.execPath, '--input-type=module', '-e', program]
    return this.spawn(['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', ...node], env)
  }

  /** The programs spawned here that have not exited. */
  running(): ChildProcess[] {
    return this.children.filter((c) => c.exitCode === null && c.signalCode === null)
  }

  /** Stop every program spawned here, then delete the namespace (if `create` made it). */
  async destroy(): Promise<void> {
    await Promise.all(this.children.map((c) => stopChild(c)))
    if (this.created) execFileSync('ip', ['netns', 'del', this.name])
    this.created = false
  }
}
