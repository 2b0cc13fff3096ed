/**
 * What the proxy's end-to-end tests need of the machine: Linux, root, `ip
 * netns` and the named tools (iptables, setpriv, jq, …). `npm test`
 * installs them on a fresh Debian machine (test/global-setup.ts); elsewhere a
 * test says why it skipped.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'

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
