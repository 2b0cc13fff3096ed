/**
 * The signing proxy of `meshsig start --proxy` (docs/proxy.md): its flags,
 * checked before anything starts, and the proxy started on the running node,
 * with `proxy.json` written in the home for scripts/deploy-proxy.sh.
 */
import type { NodeConfig } from '../../node/config.js'
import { MeshsigError } from '../../node/core/errors.js'
import type { MeshNode } from '../../node/mesh-node.js'
import type { ProxyAgentSpec, ProxySpec } from '../../node/proxy/index.js'
import type { WbaProxyMode } from '../../node/proxy/web-bot-auth-proxy.js'

/** The proxy flags of `meshsig start`. */
export interface StartProxyOptions {
  readonly proxy?: string
  readonly proxyAgent?: string | string[]
  readonly proxySignAsNode?: boolean
  readonly proxyWebBotAuth?: string
  readonly proxyAuthority?: string
}

/** A started proxy: how to stop it, and what `meshsig start` prints of it. */
export interface StartedProxy {
  close(): Promise<void>
  readonly rows: [string, string][]
  /** Printed on stderr: listener ports that changed agent or uid since the last start. */
  readonly warnings: readonly string[]
  readonly json: {
    proxy: string
    proxyTarget: string
    /** The authority every signature covers (`--proxy-authority`, or the target's `host:port`). */
    proxyAuthority: string
    proxyAgents: { did: string; name: string; port: number; uid: number }[]
  }
}

/** A proxy listener on a port the node itself takes (API, mesh TCP, mesh WebSocket) is refused before anything starts. */
export function checkProxyPorts(flags: ProxyFlags, config: NodeConfig): void {
  const taken = new Map<number, string>([[config.port, 'the API port (--port)']])
  if (config.p2pPort !== 0) {
    taken.set(config.p2pPort, 'the mesh TCP port (--p2p-port)')
    taken.set(config.p2pPort + 1, 'the mesh WebSocket port (--p2p-port + 1)')
  }
  for (const port of [flags.spec.listenPort, ...flags.agents.map((a) => a.port)]) {
    const owner = taken.get(port)
    if (owner === undefined) continue
    throw new MeshsigError(
      'INVALID_INPUT',
      `--proxy: port ${port} is ${owner} of this node; give the proxy other ports, or move the node's`,
    )
  }
}

/** The proxy flags, checked before anything starts. */
export interface ProxyFlags {
  readonly spec: ProxySpec
  readonly agents: readonly ProxyAgentSpec[]
  readonly signAsNode: boolean
  /** `--proxy-web-bot-auth <https origin>`: sign forwarded requests the Web Bot Auth way (docs/interop.md). */
  readonly webBotAuth?: WbaProxyMode
}

/** The proxy flags, parsed; undefined without `--proxy`. Throws `INVALID_INPUT`. */
export async function proxyFlagsOf(options: StartProxyOptions): Promise<ProxyFlags | undefined> {
  const agents = options.proxyAgent === undefined ? [] : [options.proxyAgent].flat().map(String)
  if (options.proxy === undefined) {
    const extras = [options.proxyWebBotAuth, options.proxyAuthority]
    if (agents.length > 0 || options.proxySignAsNode === true || extras.some((x) => x !== undefined)) {
      throw new MeshsigError(
        'INVALID_INPUT',
        '--proxy-agent, --proxy-sign-as-node, --proxy-web-bot-auth and --proxy-authority need --proxy',
      )
    }
    return undefined
  }
  // loaded only when a proxy is asked for (issue 13: nothing slow on the path to listening)
  const { parseProxyAgents, parseProxyAuthority, parseProxySpec } = await import('../../node/proxy/index.js')
  const { checkWbaMode } = await import('../../node/proxy/web-bot-auth-proxy.js')
  const authority =
    options.proxyAuthority === undefined ? undefined : parseProxyAuthority(String(options.proxyAuthority))
  const spec = { ...parseProxySpec(String(options.proxy)), ...(authority !== undefined ? { authority } : {}) }
  const wba =
    options.proxyWebBotAuth === undefined ? undefined : checkWbaMode({ agentOrigin: String(options.proxyWebBotAuth) })
  const parsed = parseProxyAgents(agents, spec)
  const own = parsed.find((a) => a.uid === process.getuid?.())
  if (own !== undefined) {
    const why = 'it can read every custodied key; give the agent a user of its own'
    throw new MeshsigError('INVALID_INPUT', `--proxy-agent ${own.did}: uid ${own.uid} is this node's own user: ${why}`)
  }
  return {
    spec,
    agents: parsed,
    signAsNode: options.proxySignAsNode === true,
    ...(wba !== undefined ? { webBotAuth: wba } : {}),
  }
}

/**
 * The signing proxy of `--proxy` (docs/proxy.md), or none: its listeners,
 * and `proxy.json` in the home for scripts/deploy-proxy.sh. `stop` runs when
 * it cannot start.
 */
export async function startProxy(
  node: MeshNode,
  flags: ProxyFlags | undefined,
  home: string,
  stop: () => Promise<void>,
): Promise<StartedProxy | undefined> {
  if (flags === undefined) return undefined
  const proxyModule = await import('../../node/proxy/index.js')
  const { movedListenerWarnings, previousProxyAgents, proxyState, startNodeProxy, writeProxyState } = proxyModule
  const { spec, agents, signAsNode, webBotAuth } = flags
  try {
    const proxy = await startNodeProxy(node, spec, {
      agents,
      signAsNode,
      ...(webBotAuth !== undefined ? { webBotAuth } : {}),
    })
    const state = proxyState(proxy, spec, signAsNode)
    const warnings = movedListenerWarnings(previousProxyAgents(home), state)
    try {
      writeProxyState(home, state)
    } catch (err) {
      await proxy.close()
      throw err
    }
    const target = `http://${spec.targetHost}:${spec.targetPort}`
    const others = signAsNode ? `signs as ${node.did}` : 'refuses unattributed callers'
    const signedFor = spec.authority === undefined ? '' : `, signed for ${proxy.authority}`
    return {
      close: () => proxy.close(),
      warnings,
      rows: [
        ['Proxy', `${proxy.url} → ${target} (${others}${signedFor})`],
        ...proxy.agents.map((a): [string, string] => [
          'Proxy agent',
          `127.0.0.1:${a.port} signs uid ${a.uid} as ${a.name} ${a.did}`,
        ]),
      ],
      json: {
        proxy: proxy.url,
        proxyTarget: target,
        proxyAuthority: proxy.authority,
        proxyAgents: proxy.agents.map(({ did, name, port, uid }) => ({ did, name, port, uid })),
      },
    }
  } catch (err) {
    await stop()
    throw err
  }
}
