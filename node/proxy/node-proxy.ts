/**
 * The signing proxy of a running node (`meshsig start --proxy 4889:3001`):
 * signs as the node's identity by default, as a custodied agent when the
 * configuration says so, and records each forwarded request in the node's
 * audit log (kind `proxy.request`).
 */
import { MeshsigError } from '../core/index.js'
import { createSigningProxy, type ProxyAuditRecord, type SigningProxy } from './signing-proxy.js'
import { signerPolicy, type ProxySigner } from './signer-policy.js'

/** What the proxy needs of a node (MeshNode has these). */
export interface ProxyHost {
  /** The node's signer (no DID) or a custodied agent's; undefined when the node holds no such key. */
  proxySigner(did?: string): ProxySigner | undefined
  /** Record one forwarded request in the audit log. */
  recordProxyRequest(record: ProxyAuditRecord): void
}

/** Where the proxy listens and where it forwards. */
export interface ProxySpec {
  readonly listenPort: number
  readonly targetHost: string
  readonly targetPort: number
}

function portOf(text: string, what: string): number {
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw new MeshsigError(
      'INVALID_INPUT',
      `--proxy: ${what} must be a port number 1-65535, got "${text.slice(0, 32)}"`,
    )
  }
  return Number(text)
}

/**
 * Parse `<listenPort>:<targetPort>` or `<listenPort>:<targetHost>:<targetPort>`
 * (target host default 127.0.0.1). Throws `INVALID_INPUT`.
 */
export function parseProxySpec(text: string): ProxySpec {
  const parts = String(text).split(':')
  if (parts.length !== 2 && parts.length !== 3) {
    throw new MeshsigError(
      'INVALID_INPUT',
      '--proxy takes <listenPort>:<targetPort> or <listenPort>:<host>:<targetPort>',
    )
  }
  const listenPort = portOf(parts[0] ?? '', 'the listen port')
  const targetPort = portOf(parts[parts.length - 1] ?? '', 'the target port')
  const targetHost = parts.length === 3 ? (parts[1] ?? '') : '127.0.0.1'
  if (!/^[A-Za-z0-9.-]{1,253}$/.test(targetHost)) throw new MeshsigError('INVALID_INPUT', '--proxy: bad target host')
  if (listenPort === targetPort && /^(127\.|localhost$)/.test(targetHost)) {
    throw new MeshsigError('INVALID_INPUT', '--proxy: the proxy cannot listen on the port it forwards to')
  }
  return { listenPort, targetHost, targetPort }
}

/** Options of `startNodeProxy`. */
export interface NodeProxyOptions {
  /** Honour X-Meshsig-Agent for custodied agents (default false). */
  readonly agentHeader?: boolean
  /** Caller source address → custodied agent DID. */
  readonly bySource?: ReadonlyMap<string, string>
  readonly clock?: () => number
  readonly random?: (n: number) => Uint8Array
  readonly onError?: (err: unknown) => void
}

/** Start the node's signing proxy; a port it cannot listen on is INVALID_INPUT. */
export async function startNodeProxy(
  node: ProxyHost,
  spec: ProxySpec,
  options: NodeProxyOptions = {},
): Promise<SigningProxy> {
  return createSigningProxy({
    listenPort: spec.listenPort,
    targetHost: spec.targetHost,
    targetPort: spec.targetPort,
    signerFor: signerPolicy({
      nodeSigner: () => node.proxySigner(),
      custodied: (did) => node.proxySigner(did),
      ...(options.agentHeader !== undefined ? { agentHeader: options.agentHeader } : {}),
      ...(options.bySource ? { bySource: options.bySource } : {}),
    }),
    audit: (record) => node.recordProxyRequest(record),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.random ? { random: options.random } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
  }).catch((err: unknown) => {
    const reason = (err as { code?: string }).code ?? (err as Error).message
    throw new MeshsigError('INVALID_INPUT', `the proxy cannot listen on 127.0.0.1:${spec.listenPort}: ${reason}`)
  })
}
