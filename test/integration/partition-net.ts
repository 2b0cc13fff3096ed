/**
 * Network namespaces for the partition test (issue 12): `count` namespaces,
 * each joined to one bridge in the root namespace by a veth pair, with
 * unique names and a random 10.x.y.0/24 subnet. A namespace is cut off by
 * taking its bridge-side link down and healed by bringing it up. Needs root.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { randomInt } from 'node:crypto'

/** The namespaces of one test. */
export interface Netns {
  /** Namespace names. */
  readonly names: readonly string[]
  /** Address of each namespace on the bridge. */
  readonly addrs: readonly string[]
  /** Take namespace `i`'s link down (nothing reaches it, not even the root namespace). */
  cut(i: number): void
  /** Bring namespace `i`'s link up again. */
  heal(i: number): void
  /** Run `cmd` inside namespace `i` and return its stdout. */
  run(i: number, cmd: readonly string[]): string
  /** Spawn a long-running `cmd` inside namespace `i`. */
  spawn(i: number, cmd: readonly string[], env: Record<string, string>): ChildProcess
  /** Delete the namespaces, links and bridge (safe to call twice). */
  cleanup(): void
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' })
}

/** True when this process may create network namespaces (root with iproute2). */
export function canCreateNetns(): boolean {
  if (process.getuid?.() !== 0) return false
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'pipe' })
    return true
  } catch {
    return false
  }
}

/** Create `count` namespaces on one bridge. */
export function createNetns(count: number): Netns {
  const tag = `${process.pid % 100_000}${randomInt(100)}`
  const net = `10.${randomInt(100, 200)}.${randomInt(1, 250)}`
  const bridge = `mspb${tag}`
  const names = Array.from({ length: count }, (_, i) => `msp-${tag}-${i}`)
  const hostSide = names.map((_, i) => `msph${tag}${i}`)
  const addrs = names.map((_, i) => `${net}.${i + 1}`)
  let cleaned = false
  const cleanup = (): void => {
    if (cleaned) return
    cleaned = true
    for (const n of names) quiet(() => ip('netns', 'del', n))
    quiet(() => ip('link', 'del', bridge))
  }
  try {
    ip('link', 'add', bridge, 'type', 'bridge')
    ip('addr', 'add', `${net}.254/24`, 'dev', bridge)
    ip('link', 'set', bridge, 'up')
    names.forEach((ns, i) => {
      const inner = `mspn${tag}${i}`
      ip('netns', 'add', ns)
      ip('link', 'add', hostSide[i]!, 'type', 'veth', 'peer', 'name', inner)
      ip('link', 'set', inner, 'netns', ns)
      ip('link', 'set', hostSide[i]!, 'master', bridge)
      ip('link', 'set', hostSide[i]!, 'up')
      ip('-n', ns, 'addr', 'add', `${addrs[i]}/24`, 'dev', inner)
      ip('-n', ns, 'link', 'set', inner, 'up')
      ip('-n', ns, 'link', 'set', 'lo', 'up')
    })
  } catch (err) {
    cleanup()
    throw err
  }
  return {
    names,
    addrs,
    cut: (i) => ip('link', 'set', hostSide[i]!, 'down'),
    heal: (i) => ip('link', 'set', hostSide[i]!, 'up'),
    run: (i, cmd) => execFileSync('ip', ['netns', 'exec', names[i]!, ...cmd], { stdio: 'pipe' }).toString(),
    spawn: (i, cmd, env) =>
      spawn('ip', ['netns', 'exec', names[i]!, ...cmd], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    cleanup,
  }
}

function quiet(f: () => void): void {
  try {
    f()
  } catch {
    // already gone
  }
}
