/**
 * The signing proxy of a running node (`meshsig start --proxy 4898:3001
 * --proxy-agent did:msig:…=4899:1001`): one listener per attributed agent,
 * serving only that agent's uid and signing as that custodied agent (a
 * connection of another uid is refused and audited once, kind `api.refused`,
 * action `proxy.sign`); a default listener that refuses unless the
 * operator lets it sign as the node; each forwarded request recorded in the
 * node's audit log (kind `proxy.request`). Keys stay in the node: the proxy
 * asks it for a signer.
 */
import { MeshsigError, isMeshsigError, toMsigDid } from '../core/index.js'
import { DEFAULT_LIMITS, type ProxyLimits } from '../limits.js'
import type { RefusalInput } from '../services/audit-records.js'
import type { WrongUid } from './admission.js'
import type { ProxyAuditRecord } from './proxy-audit.js'
import { createSigningProxy, type SigningProxy } from './signing-proxy.js'
import type { RedirectCheck } from './redirect-check.js'
import { signerPolicy, type ProxySigner } from './signer-policy.js'
import type { Interop } from './web-bot-auth-interop.js'
import { checkWbaMode, type WbaProxyMode } from './web-bot-auth-proxy.js'

/** The public record of an agent, as much of it as the proxy reads. */
export interface ProxyAgentRecord {
  readonly did: string
  readonly name: string
  readonly status: string
}

/** What the proxy needs of a node (MeshNode has these). */
export interface ProxyHost {
  /** The node's signer (no DID) or a custodied agent's; undefined when the node holds no such key. Throws REVOKED. */
  proxySigner(did?: string): ProxySigner | undefined
  /** Append one `proxy.request` entry (a request before it is forwarded, or its outcome); returns its index. */
  recordProxyRequest(record: ProxyAuditRecord): number | void
  /** Record a refused action (audit kind `api.refused`): a connection refused for its uid. */
  recordRefusal?(refusal: RefusalInput): void
  /** The node's agents (the proxy asks only for this node's own). */
  readonly agents: { list(query: { origin: 'local' }): readonly ProxyAgentRecord[] }
  /** Where the Web Bot Auth key directory is published (docs/interop.md). */
  readonly interop?: Pick<Interop, 'publishWebBotAuth' | 'withdrawWebBotAuth'>
  /** The node's bounds (node/limits.ts); the proxy's own group, default `DEFAULT_LIMITS.proxy`. */
  readonly limits?: { readonly proxy: ProxyLimits }
}

/** Where the proxy listens and where it forwards. */
export interface ProxySpec {
  readonly listenPort: number
  readonly targetHost: string
  readonly targetPort: number
  /**
   * The authority signed and sent as `Host` (`parseProxyAuthority`); default
   * the target's `host:port`, which a gateway on loopback shares with every
   * other host's (docs/proxy.md, decision 0072).
   */
  readonly authority?: string
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

/**
 * Parse `--proxy-authority <host>[:<port>]`: a name unique to the gateway
 * (decision 0072), lowercased, the port dropped when it is 80 as
 * `gatewayAuthority` writes it. Throws `INVALID_INPUT`.
 */
export function parseProxyAuthority(text: string): string {
  const value = String(text).toLowerCase()
  const m =
    /^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*)(?::([0-9]{1,5}))?$/.exec(value)
  const form = '--proxy-authority takes <host>[:<port>], a name only this gateway answers to (gateway.example:3001)'
  if (m === null || value.length > 253 + 6) throw new MeshsigError('INVALID_INPUT', form)
  const host = m[1] ?? ''
  if (host.length > 253) throw new MeshsigError('INVALID_INPUT', `${form}: a host name has at most 253 characters`)
  // as URL parsers read it: 2130706433, 0x7f.1 and 0177.0.0.1 are 127.0.0.1 (review 107), and a spelling they
  // rewrite would never match the absolute-form targets the proxy compares with it
  const canonical = URL.canParse(`http://${host}`) ? new URL(`http://${host}`).hostname : '' // 256.0.0.1: no host
  if (canonical === '') throw new MeshsigError('INVALID_INPUT', `${form}: ${host} is no host name or IPv4 address`)
  if (/^(127|0)\.[0-9.]*$/.test(canonical) || /(^|\.)localhost$|^localhost\.|^ip6-(localhost|loopback)$/.test(host)) {
    throw new MeshsigError('INVALID_INPUT', `${form}: ${host} is every host's own name, the default it replaces`)
  }
  if (canonical !== host) throw new MeshsigError('INVALID_INPUT', `${form}: write ${host} as ${canonical}`)
  if (m[2] === undefined) return host
  const port = Number(m[2])
  if (port < 1 || port > 65535) throw new MeshsigError('INVALID_INPUT', `${form}: the port must be 1-65535`)
  return port === 80 ? host : `${host}:${port}`
}

/**
 * One agent listener: the custodied agent's DID, the local port its uid is
 * redirected to, and that uid: the only one the listener serves (the rules
 * outlive the node; a port given to another agent since they were made must
 * not sign the old agent's uid as the new one, attack review 93).
 */
export interface ProxyAgentSpec {
  readonly did: string
  readonly port: number
  readonly uid: number
}

/** Largest uid (uid_t, (uid_t)-1 excluded). */
const MAX_UID = 4_294_967_294

/**
 * Parse `--proxy-agent <did>=<port>:<uid>` (a did:key is taken as its
 * did:msig). The agent is named by DID, not by name: names are not unique
 * and anyone on loopback may register one. The uid is 1-4294967294: root can
 * bypass any rule. Throws `INVALID_INPUT`.
 */
export function parseProxyAgent(text: string): ProxyAgentSpec {
  const at = String(text).lastIndexOf('=')
  const form = '--proxy-agent takes <agentDid>=<port>:<uid> (the DID register-agent.sh prints, the uid of its user)'
  let did: string
  try {
    did = toMsigDid(String(text).slice(0, Math.max(at, 0)))
  } catch {
    throw new MeshsigError('INVALID_INPUT', form)
  }
  const [port, uid, ...rest] = String(text)
    .slice(at + 1)
    .split(':')
  if (uid === undefined || rest.length > 0) throw new MeshsigError('INVALID_INPUT', `${form}: ${did} has no uid`)
  if (!/^[0-9]{1,10}$/.test(uid) || Number(uid) < 1 || Number(uid) > MAX_UID) {
    const why = `the uid must be a number 1-${MAX_UID} (root cannot be attributed to an agent)`
    throw new MeshsigError('INVALID_INPUT', `--proxy-agent ${did}: ${why}, got "${uid.slice(0, 16)}"`)
  }
  return { did, port: portOf(port ?? '', `--proxy-agent ${did}: the port`), uid: Number(uid) }
}

/**
 * Parse every `--proxy-agent`: DIDs, ports and uids distinct (one uid is one
 * agent), no port shared with the proxy or a local gateway.
 */
export function parseProxyAgents(texts: readonly string[], spec: ProxySpec): ProxyAgentSpec[] {
  const agents = texts.map(parseProxyAgent)
  const taken = new Set([spec.listenPort, ...(/^(127\.|localhost$)/.test(spec.targetHost) ? [spec.targetPort] : [])])
  const dids = new Set<string>()
  const uids = new Set<number>()
  for (const agent of agents) {
    if (dids.has(agent.did)) throw new MeshsigError('INVALID_INPUT', `--proxy-agent ${agent.did} is given twice`)
    if (taken.has(agent.port)) {
      throw new MeshsigError('INVALID_INPUT', `--proxy-agent ${agent.did}: port ${agent.port} is already taken`)
    }
    if (uids.has(agent.uid)) {
      throw new MeshsigError('INVALID_INPUT', `--proxy-agent ${agent.did}: uid ${agent.uid} is another agent's`)
    }
    dids.add(agent.did)
    taken.add(agent.port)
    uids.add(agent.uid)
  }
  return agents
}

/** An agent listener that listens: the agent's DID, its name, and the port. */
export interface ProxyAgentListener extends ProxyAgentSpec {
  readonly name: string
}

/** Options of `startNodeProxy`. */
export interface NodeProxyOptions {
  /** One listener per agent: connections on it are signed as that custodied agent. */
  readonly agents?: readonly ProxyAgentSpec[]
  /** Sign callers of the default listener as the node (default false: refused with 403). */
  readonly signAsNode?: boolean
  /** Caller source address → custodied agent DID (default listener). */
  readonly bySource?: ReadonlyMap<string, string>
  /** How agent listeners confirm a connection came through the redirect (default: the kernel's socket table). */
  readonly checkRedirect?: RedirectCheck
  readonly clock?: () => number
  readonly random?: (n: number) => Uint8Array
  readonly onError?: (err: unknown) => void
  /** Opt-in Web Bot Auth signatures; the node then publishes the signers' keys (docs/interop.md §1). */
  readonly webBotAuth?: WbaProxyMode
}

/** A running node proxy: the signing proxy and its agent listeners. */
export interface NodeProxy extends SigningProxy {
  readonly agents: readonly ProxyAgentListener[]
}

/** Each agent's name; INVALID_INPUT when the node does not hold its key or it is revoked. */
function checkAgents(node: ProxyHost, agents: readonly ProxyAgentSpec[]): Map<string, string> {
  const names = new Map(node.agents.list({ origin: 'local' }).map((a) => [a.did, a.name]))
  for (const { did } of agents) {
    let held: boolean
    try {
      held = node.proxySigner(did) !== undefined
    } catch (err) {
      if (!isMeshsigError(err)) throw err
      throw new MeshsigError('INVALID_INPUT', `--proxy-agent ${did}: ${err.message}`)
    }
    if (!held || !names.has(did)) {
      throw new MeshsigError('INVALID_INPUT', `--proxy-agent ${did}: this node does not hold that agent's key`)
    }
  }
  return names
}

/**
 * Why the proxy cannot listen, naming the port and its listener. A port in
 * use may be held by another local user: the iptables redirects outlive the
 * node, and whoever listens on a listener's port while the node is down gets
 * what they redirect (unless deploy-proxy.sh's answer guard refuses its
 * answers; docs/proxy.md, "While the node is down").
 */
function listenFailure(err: unknown, spec: ProxySpec, agents: readonly ProxyAgentSpec[]): MeshsigError {
  const e = err as { code?: string; port?: number; message?: string }
  const reason = e.code ?? e.message ?? String(err)
  const agent = agents.find((a) => a.port === e.port)
  if (e.port === undefined || (agent === undefined && e.port !== spec.listenPort)) {
    const ports = [spec.listenPort, ...agents.map((a) => a.port)].join(', ')
    return new MeshsigError('INVALID_INPUT', `the proxy cannot listen on 127.0.0.1 (ports ${ports}): ${reason}`)
  }
  const listener = agent ? `the listener of ${agent.did}` : 'the default listener'
  const held =
    e.code === 'EADDRINUSE'
      ? ': another process holds that port (while the node was down, another local user may have taken it;' +
        ' see who with `ss -ltnp`, and docs/proxy.md "While the node is down")'
      : ''
  return new MeshsigError(
    'INVALID_INPUT',
    `the proxy cannot listen on 127.0.0.1:${e.port} (${listener}): ${reason}${held}`,
    {
      port: e.port,
    },
  )
}

/** The audit record of a connection refused on an agent listener for its uid (docs/proxy.md, "Who signs"). */
function wrongUidRefusal(r: WrongUid): RefusalInput {
  return { action: 'proxy.sign', subject: r.listener, code: 'FORBIDDEN', client: `uid:${r.uid}`, authority: 'uid' }
}

/**
 * Start the node's signing proxy: the default listener and one listener per
 * agent (each checked: custodied here, not revoked). INVALID_INPUT when an
 * agent is not custodied or a port cannot be bound.
 */
export async function startNodeProxy(
  node: ProxyHost,
  spec: ProxySpec,
  options: NodeProxyOptions = {},
): Promise<NodeProxy> {
  const agents = options.agents ?? []
  const names = checkAgents(node, agents)
  const wba = options.webBotAuth === undefined ? undefined : checkWbaMode(options.webBotAuth)
  const proxy = await createSigningProxy({
    listenPort: spec.listenPort,
    agentListeners: agents.map((a) => ({ label: a.did, port: a.port, uid: a.uid })),
    targetHost: spec.targetHost,
    targetPort: spec.targetPort,
    ...(spec.authority !== undefined ? { authority: spec.authority } : {}),
    signerFor: signerPolicy({
      nodeSigner: () => node.proxySigner(),
      custodied: (did) => node.proxySigner(did),
      agentSigner: (did) => node.proxySigner(did),
      ...(options.signAsNode !== undefined ? { signAsNode: options.signAsNode } : {}),
      ...(options.bySource ? { bySource: options.bySource } : {}),
    }),
    audit: (record) => node.recordProxyRequest(record),
    onWrongUid: (refusal) => node.recordRefusal?.(wrongUidRefusal(refusal)),
    maxPendingRedirectChecks: (node.limits ?? DEFAULT_LIMITS).proxy.pendingRedirectChecks,
    maxBufferedRequests: (node.limits ?? DEFAULT_LIMITS).proxy.bufferedRequestsPerListener,
    maxSignedPerMinute: (node.limits ?? DEFAULT_LIMITS).proxy.signedRequestsPerMinute,
    ...(options.checkRedirect ? { checkRedirect: options.checkRedirect } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.random ? { random: options.random } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
    ...(wba ? { webBotAuth: wba } : {}),
  }).catch((err: unknown) => {
    throw listenFailure(err, spec, agents)
  })
  const listening = agents.map((a) => ({ ...a, name: names.get(a.did) ?? '', port: proxy.agentPorts.get(a.did) ?? 0 }))
  if (wba === undefined || node.interop === undefined) return { ...proxy, agents: listening }
  const interop = node.interop
  const nodeDid = options.signAsNode === true ? node.proxySigner()?.did : undefined
  const signers = [...agents.map((a) => a.did), ...(nodeDid ? [nodeDid] : [])]
  interop.publishWebBotAuth(signers, wba, (options.clock ?? Date.now)())
  const close = (): Promise<void> => {
    interop.withdrawWebBotAuth()
    return proxy.close()
  }
  return { ...proxy, agents: listening, close }
}
