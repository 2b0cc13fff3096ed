/**
 * What a running node proxy listens on, written to `$MESHSIG_HOME/proxy.json`
 * at start: the one place that says which port signs as which agent for
 * which uid (the node's `--proxy-agent <did>=<port>:<uid>`).
 * scripts/deploy-proxy.sh --agent reads an agent's port and uid from it, and
 * the proxy serves on each agent listener only that uid, so rules made for
 * an earlier proxy.json are refused rather than signed as another agent
 * (attack review 93). It holds no secret.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { NodeProxy, ProxySpec } from './node-proxy.js'

/** The file name in the meshsig home. */
export const PROXY_STATE_FILE = 'proxy.json'

/** One agent listener of `proxy.json`: the agent, its port, and the only uid it serves. */
export interface ProxyStateAgent {
  readonly did: string
  readonly name: string
  readonly port: number
  readonly uid: number
}

/** Contents of `proxy.json` (version 2: version 1 had no uids). */
export interface ProxyState {
  readonly v: 2
  /** Port of the default listener. */
  readonly listenPort: number
  /** The gateway the proxy forwards to. */
  readonly gateway: { readonly host: string; readonly port: number }
  /** The authority every signature covers. */
  readonly authority: string
  /** Whether the default listener signs as the node. */
  readonly signAsNode: boolean
  /** One entry per agent listener. */
  readonly agents: readonly ProxyStateAgent[]
}

/** The state of a running node proxy. */
export function proxyState(proxy: NodeProxy, spec: ProxySpec, signAsNode: boolean): ProxyState {
  return {
    v: 2,
    listenPort: proxy.port,
    gateway: { host: spec.targetHost, port: spec.targetPort },
    authority: proxy.authority,
    signAsNode,
    agents: proxy.agents.map(({ did, name, port, uid }) => ({ did, name, port, uid })),
  }
}

/** The agents of the `proxy.json` in `home` (any version; a v1 entry has no uid), or none when unreadable. */
export function previousProxyAgents(home: string): { did: string; name: string; port: number; uid?: number }[] {
  try {
    const state = JSON.parse(readFileSync(join(home, PROXY_STATE_FILE), 'utf8')) as { agents?: unknown }
    if (!Array.isArray(state.agents)) return []
    return (state.agents as Record<string, unknown>[]).flatMap((a) =>
      typeof a.did === 'string' && typeof a.port === 'number'
        ? [{ did: a.did, name: String(a.name), port: a.port, ...(typeof a.uid === 'number' ? { uid: a.uid } : {}) }]
        : [],
    )
  } catch {
    return []
  }
}

/**
 * What to tell the operator about listener ports that now sign as another
 * agent, or serve another uid, than at the last start: the kernel's rules
 * for them may still send the old uid there. Those connections are refused
 * (each listener serves its own uid only), and deploy-proxy.sh must run
 * again for the new agent's uid to be redirected. Ports that kept their
 * agent since a `proxy.json` of an older node (v1, no uids) get one line
 * for all: whether their rules name the same uids is not known here.
 */
export function movedListenerWarnings(
  previous: readonly { did: string; name: string; port: number; uid?: number }[],
  current: ProxyState,
): string[] {
  const gw = current.gateway.port
  const unknownUid: string[] = []
  const moved = current.agents.flatMap((now) => {
    const was = previous.find((p) => p.port === now.port)
    if (was === undefined || (was.did === now.did && was.uid === now.uid)) return []
    if (was.did === now.did && was.uid === undefined) {
      unknownUid.push(`${now.port} (${now.name}: uid ${now.uid})`)
      return []
    }
    const before = `${was.name} ${was.did}${was.uid === undefined ? '' : ` (uid ${was.uid})`}`
    return [
      `proxy listener 127.0.0.1:${now.port} signed as ${before} at the last start; it now serves uid ${now.uid} ` +
        `as ${now.name} and refuses any other uid a rule still sends there: run ` +
        `\`deploy-proxy.sh --agent ${now.did} ${gw}\` (docs/proxy.md)`,
    ]
  })
  if (unknownUid.length === 0) return moved
  const ports = unknownUid.join(', ')
  const line =
    `proxy.json was written by an older node, which named no uids: the listeners ${ports} now serve only ` +
    `those uids; if their rules were deployed for others, run \`deploy-proxy.sh --agent <name> ${gw}\` for each`
  return [...moved, line]
}

/** Write `proxy.json` into `home` atomically (temp file, then rename), mode 0600. Returns its path. */
export function writeProxyState(home: string, state: ProxyState): string {
  const path = join(home, PROXY_STATE_FILE)
  const tmp = join(home, `.${PROXY_STATE_FILE}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600, flag: 'wx' })
    renameSync(tmp, path)
  } finally {
    rmSync(tmp, { force: true })
  }
  return path
}
