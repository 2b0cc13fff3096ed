/**
 * What a running node proxy listens on, written to `$MESHSIG_HOME/proxy.json`
 * at start. scripts/deploy-proxy.sh --agent reads it to find an agent's
 * listener port, so the iptables rules and the proxy cannot disagree about
 * which port signs as which agent. It holds no secret.
 */
import { randomBytes } from 'node:crypto'
import { renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { NodeProxy, ProxySpec } from './node-proxy.js'

/** The file name in the meshsig home. */
export const PROXY_STATE_FILE = 'proxy.json'

/** Contents of `proxy.json` (version 1). */
export interface ProxyState {
  readonly v: 1
  /** Port of the default listener. */
  readonly listenPort: number
  /** The gateway the proxy forwards to. */
  readonly gateway: { readonly host: string; readonly port: number }
  /** The authority every signature covers. */
  readonly authority: string
  /** Whether the default listener signs as the node. */
  readonly signAsNode: boolean
  /** One entry per agent listener. */
  readonly agents: readonly { readonly did: string; readonly name: string; readonly port: number }[]
}

/** The state of a running node proxy. */
export function proxyState(proxy: NodeProxy, spec: ProxySpec, signAsNode: boolean): ProxyState {
  return {
    v: 1,
    listenPort: proxy.port,
    gateway: { host: spec.targetHost, port: spec.targetPort },
    authority: proxy.authority,
    signAsNode,
    agents: proxy.agents.map(({ did, name, port }) => ({ did, name, port })),
  }
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
