/**
 * `meshsig start`: run a mesh node with its HTTP API and WebSocket stream.
 * Uses the identity in the meshsig home (made on first start if absent),
 * the embedded defaults, and stops cleanly on SIGINT / SIGTERM.
 */
import type { CAC } from 'cac'
import type { NodeConfig } from '../../node/config.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { MeshsigError } from '../../node/core/errors.js'
import { createLogger, parseLogLevel, type LogLevel } from '../../node/logger.js'
import {
  createIdentity,
  ensureApiToken,
  identityExists,
  loadIdentity,
  type Identity,
} from '../../node/identity/index.js'
import type { ApiListener } from '../../api/listener.js'
import type { ServedApi } from '../../api/server.js'
import type { CliContext, CliRuntime, GlobalOptions } from '../context.js'
import { OK, block, type CommandResult } from '../output.js'
import { quoted } from '../../node/core/untrusted-text.js'
import { checkProxyPorts, proxyFlagsOf, startProxy, type StartProxyOptions } from './start-proxy.js'

interface StartOptions extends GlobalOptions, StartProxyOptions {
  readonly port?: string | number
  readonly host?: string
  readonly p2pPort?: string | number
  readonly peer?: string | string[]
  readonly db?: string
  readonly name?: string
  readonly allowedHost?: string | string[]
  readonly trustLoopback?: boolean
}

function peersOf(peer: string | string[] | undefined): string[] | undefined {
  if (peer === undefined) return undefined
  return (Array.isArray(peer) ? peer : [peer]).map(String)
}

/** Start a node and serve until a signal arrives; resolves with the exit result. */
export async function startCommand(ctx: CliContext, options: StartOptions): Promise<CommandResult> {
  ctx.io.serving?.() // a log reader that goes away does not stop the node
  // Loaded here, not at the top: offline commands must not pay for libp2p, SQLite and the API.
  const { listenAddresses, loadConfig } = await import('../../node/config.js')
  const proxyFlags = await proxyFlagsOf(options)
  const config: NodeConfig = await loadConfig({
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
      trustLoopback: options.trustLoopback === true ? true : undefined,
    },
  })
  if (proxyFlags !== undefined) checkProxyPorts(proxyFlags, config)
  if (!identityExists(ctx.home)) createIdentity(ctx.home, {})
  const identity = loadIdentity(ctx.home)
  const token = ensureApiToken(ctx.home)
  // the port first: in use fails at once; /health answers "starting" while the rest loads (issue 13)
  const { listenEarly } = await import('./start-early.js')
  const listener = await listenEarly(config, identity, token)
  const early = { identity, token, listener }
  const { node, server } = await buildNode(ctx, config, listenAddresses(config), early).catch(async (err: unknown) => {
    await listener.close()
    throw err
  })
  await node.start().catch(async (err: unknown) => {
    await server.close()
    await node.stop()
    throw await meshListenError(err, config)
  })
  const proxy = await startProxy(node, proxyFlags, ctx.home, async () => {
    await server.close()
    await node.stop()
  })
  const info = node.info()
  if (config.trustLoopback) ctx.io.stderr(TRUST_LOOPBACK_WARNING + '\n')
  if (info.revocation !== undefined) ctx.io.stderr(revokedWarning(info.did, info.revocation) + '\n')
  for (const warning of proxy?.warnings ?? []) ctx.io.stderr(`WARNING: ${warning}\n`)
  const started = block(`${OK} meshsig node ${info.name} is running`, [
    ['API', server.url],
    ['Dashboard', `${server.url}/ (\`meshsig dashboard\` prints a link with a lane of its own)`],
    ['DID', info.did],
    ['PeerId', info.peerId],
    ...info.multiaddrs.map((a): [string, string] => ['Mesh', a]),
    ...(proxy?.rows ?? []),
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

/** The node (store and services, mesh not yet started) and its full API on the bound port. */
async function buildNode(
  ctx: CliContext,
  config: NodeConfig,
  listen: string[],
  { identity, token, listener }: { identity: Identity; token: string; listener: ApiListener },
): Promise<{ node: MeshNode; server: ServedApi }> {
  await import('../../node/polyfill.js') // before libp2p loads (cli/main.ts leaves it to `start`)
  const { boundHeapGrowth } = await import('../../node/heap-growth.js')
  boundHeapGrowth() // the node's process only: issue 13's RSS targets (decision 0056)
  const { MeshNode } = await import('../../node/mesh-node.js')
  const { serveApi } = await import('../../api/server.js')
  const node = await MeshNode.create({
    name: config.name,
    identity,
    home: ctx.home,
    dbPath: config.db,
    listen,
    peers: config.peers,
    allowedHosts: config.allowedHosts,
    maxSkewMs: config.maxSkewMs,
    logger: createLogger({ level: logLevelOf(ctx.io.env) }),
  })
  // the store holds the home's node.lock from here (decision 0042): an identity replaced before that is not run
  if (loadIdentity(ctx.home).did !== identity.did) {
    await node.stop()
    throw new MeshsigError('ALREADY_EXISTS', `the identity in ${ctx.home} was replaced while this node started`)
  }
  const server = await serveApi(node, config, { token, listener }).catch(async (err: unknown) => {
    await node.stop()
    throw err
  })
  return { node, server }
}

/** The log level of `meshsig start`: MESHSIG_LOG_LEVEL, or debug when MESHSIG_DEBUG is set, else info. */
function logLevelOf(env: Readonly<Record<string, string | undefined>>): LogLevel {
  return parseLogLevel(env.MESHSIG_LOG_LEVEL, env.MESHSIG_DEBUG ? 'debug' : 'info')
}

/** A mesh that cannot listen (a port in use): one line naming the ports and the flag that moves them. */
async function meshListenError(err: unknown, config: NodeConfig): Promise<unknown> {
  const text = err instanceof Error ? `${err.message} ${String((err as { cause?: unknown }).cause ?? '')}` : ''
  if (!/EADDRINUSE|address already in use/i.test(text)) return err
  const { meshPortsInUse } = await import('./start-early.js')
  return meshPortsInUse(config)
}

/** Printed at start when `trustLoopback` is on (docs/protocol.md §8). */
export const TRUST_LOOPBACK_WARNING =
  'WARNING: trustLoopback is on: every process on this host that reaches 127.0.0.1 acts as the operator ' +
  '(sends as any hosted agent, rotates and revokes keys). Use it only on a single-user machine.'

/**
 * The line a node started on a revoked identity prints (decision 0077): it
 * serves reads and the audit export, and registers and rotates no agent.
 */
export function revokedWarning(did: string, r: { reason: string; revokedAt: string; by: string }): string {
  const who = r.by === 'self' ? 'by itself' : 'by its controller'
  return (
    `WARNING: this node's DID ${did} was revoked ${who} at ${r.revokedAt} (reason: ${quoted(r.reason)}): ` +
    'it serves reads and the audit log, and registers and rotates no agent. ' +
    'Start a new node from a new MESHSIG_HOME (docs/SECURITY.md).'
  )
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
    .option('--trust-loopback', 'Single-user machine only: every local caller acts as the operator')
    .option('--proxy <ports>', 'Signing proxy: <listenPort>:<gatewayPort> or <listenPort>:<host>:<gatewayPort>')
    .option(
      '--proxy-agent <did=port:uid>',
      'Proxy listener on <port> serving uid <uid> only, signing as the custodied agent <did> (repeatable)',
    )
    .option('--proxy-sign-as-node', 'Let the proxy sign callers no agent rule attributes as the node itself')
    .option(
      '--proxy-web-bot-auth <origin>',
      'Proxy signs the Web Bot Auth way; <origin>: https origin serving the key directory (Signature-Agent)',
    )
    .option(
      '--proxy-authority <host:port>',
      "Authority the proxy signs and sends as Host: a name only this gateway answers to (default: the gateway's address)",
    )
    .action((options: StartOptions) => startCommand(rt.context(options), options))
}
