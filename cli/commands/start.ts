/**
 * `meshsig start`: run a mesh node with its HTTP API and WebSocket stream.
 * Uses the identity in the meshsig home (made on first start if absent),
 * the embedded defaults, and stops cleanly on SIGINT / SIGTERM.
 */
import type { CAC } from 'cac'
import type { NodeConfig } from '../../node/config.js'
import type { MeshNode } from '../../node/mesh-node.js'
import type { ProxySpec } from '../../node/proxy/index.js'
import { createIdentity, ensureApiToken, identityExists, loadIdentity } from '../../node/identity/index.js'
import type { CliContext, CliRuntime, GlobalOptions } from '../context.js'
import { OK, block, type CommandResult } from '../output.js'

interface StartOptions extends GlobalOptions {
  readonly port?: string | number
  readonly host?: string
  readonly p2pPort?: string | number
  readonly peer?: string | string[]
  readonly db?: string
  readonly name?: string
  readonly allowedHost?: string | string[]
  readonly proxy?: string
  readonly proxyAgentHeader?: boolean
}

function peersOf(peer: string | string[] | undefined): string[] | undefined {
  if (peer === undefined) return undefined
  return (Array.isArray(peer) ? peer : [peer]).map(String)
}

/** Start a node and serve until a signal arrives; resolves with the exit result. */
export async function startCommand(ctx: CliContext, options: StartOptions): Promise<CommandResult> {
  // Loaded here, not at the top: offline commands must not pay for libp2p, SQLite and the API.
  const { listenAddresses, loadConfig } = await import('../../node/config.js')
  const { MeshNode } = await import('../../node/mesh-node.js')
  const { serveApi } = await import('../../api/server.js')
  const { parseProxySpec } = await import('../../node/proxy/index.js')
  const proxySpec = options.proxy === undefined ? undefined : parseProxySpec(String(options.proxy))
  const config: NodeConfig = loadConfig({
    home: ctx.home,
    env: ctx.io.env as NodeJS.ProcessEnv,
    flags: {
      port: options.port,
      host: options.host,
      p2pPort: options.p2pPort,
      peers: peersOf(options.peer),
      db: options.db,
      name: options.name,
      allowedHosts: peersOf(options.allowedHost),
    },
  })
  if (!identityExists(ctx.home)) createIdentity(ctx.home, {})
  const identity = loadIdentity(ctx.home)
  const token = ensureApiToken(ctx.home)
  const node = await MeshNode.create({
    name: config.name,
    identity,
    home: ctx.home,
    dbPath: config.db,
    listen: listenAddresses(config),
    peers: config.peers,
    maxSkewMs: config.maxSkewMs,
  })
  await node.start()
  const server = await serveApi(node, config, { token })
  const proxy = await startProxy(node, proxySpec, options.proxyAgentHeader === true, async () => {
    await server.close()
    await node.stop()
  })
  const info = node.info()
  const started = block(`${OK} meshsig node ${info.name} is running`, [
    ['API', server.url],
    ['Dashboard', server.url + '/'],
    ['DID', info.did],
    ['PeerId', info.peerId],
    ...info.multiaddrs.map((a): [string, string] => ['Mesh', a]),
    ...(proxy ? [proxy.row] : []),
  ])
  ctx.io.stdout(
    (ctx.json ? JSON.stringify({ started: true, url: server.url, ...info, ...proxy?.json }) : started) + '\n',
  )
  await waitForSignal()
  await proxy?.close()
  await server.close()
  await node.stop()
  return { json: { stopped: true }, human: `${OK} stopped` }
}

interface StartedProxy {
  close(): Promise<void>
  readonly row: [string, string]
  readonly json: { proxy: string; proxyTarget: string }
}

/** The signing proxy of `--proxy` (docs/proxy.md), or none; `stop` runs when it cannot listen. */
async function startProxy(
  node: MeshNode,
  spec: ProxySpec | undefined,
  agentHeader: boolean,
  stop: () => Promise<void>,
): Promise<StartedProxy | undefined> {
  if (spec === undefined) return undefined
  const { startNodeProxy } = await import('../../node/proxy/index.js')
  try {
    const proxy = await startNodeProxy(node, spec, { agentHeader })
    const target = `http://${spec.targetHost}:${spec.targetPort}`
    return {
      close: () => proxy.close(),
      row: ['Proxy', `${proxy.url} → ${target} (signs as ${node.did})`],
      json: { proxy: proxy.url, proxyTarget: target },
    }
  } catch (err) {
    await stop()
    throw err
  }
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done)
      process.off('SIGTERM', done)
      resolve()
    }
    process.on('SIGINT', done)
    process.on('SIGTERM', done)
  })
}

/** Register `start`. */
export function registerStart(cli: CAC, rt: CliRuntime): void {
  cli
    .command('start', 'Start a mesh node with its API, WebSocket stream and dashboard')
    .option('--port <port>', 'HTTP API port (default 4888)')
    .option('--host <host>', 'Address to bind (default 127.0.0.1)')
    .option('--p2p-port <port>', 'libp2p TCP port; WebSockets uses the next one (default port + 1)')
    .option('--peer <addr>', 'Peer to join: multiaddr or ws://host:port (repeatable)')
    .option('--db <file>', 'SQLite database (default ~/.meshsig/meshsig.db)')
    .option('--name <name>', 'Node name shown to peers (default: host name)')
    .option('--allowed-host <name>', 'Extra Host header name the API answers to (repeatable)')
    .option('--proxy <ports>', 'Signing proxy: <listenPort>:<gatewayPort> or <listenPort>:<host>:<gatewayPort>')
    .option('--proxy-agent-header', 'Let the proxy sign as a custodied agent named in X-Meshsig-Agent')
    .action((options: StartOptions) => startCommand(rt.context(options), options))
}
