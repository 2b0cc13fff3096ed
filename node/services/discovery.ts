/**
 * Capability discovery across the mesh (docs/protocol.md §9, "Capability
 * discovery"): providers of a capability are found on the DHT, then asked
 * over `/meshsig/discover/1.0.0` for their matching agents. Every
 * registration they return is checked like any other envelope before it is
 * believed. What this node announces is `provides` (capability-provides.ts).
 * A peer's request is answered from the node's own agents alone, read in
 * SQL with a limit, and within a per-peer budget (decision 0060).
 */
import {
  decodeEnvelope,
  encodeEnvelope,
  isMeshsigError,
  MalformedError,
  MeshsigError,
  utf8,
  type Envelope,
  type RegEnvelope,
} from '../core/index.js'
import type { DiscoveryLimits } from '../limits.js'
import type { MeshP2P } from '../p2p/index.js'
import { ServeBudget } from '../p2p/serve-budget.js'
import type { AgentService } from './agent-service.js'
import type { CapabilityProvides } from './capability-provides.js'
import { GOSSIP_REJECT_CODES, type Ingest } from './ingest.js'
import type { AgentRecord } from './records.js'

/** Protocol id of discovery queries. */
export const DISCOVER_PROTOCOL = '/meshsig/discover/1.0.0'
/** Most registrations in one answer, served or read (docs/protocol.md §9, "Capability discovery"). */
export const DISCOVER_ANSWER_MAX = 100

/** A remote agent found through the DHT, with the node that answered. */
export interface RemoteMatch {
  readonly record: AgentRecord
  /** PeerId of the provider that returned it. */
  readonly provider: string
  readonly via: 'dht'
}

/** The answer of a network discovery. */
export interface NetworkDiscovery {
  readonly local: AgentRecord[]
  readonly remote: RemoteMatch[]
  readonly total: number
}

/** What discovery needs from the node. */
export interface DiscoveryComponents {
  readonly agents: AgentService
  readonly ingest: Ingest
  readonly p2p: () => MeshP2P
  /** The capability types this node announces on the DHT, bounded and queued. */
  readonly provides: CapabilityProvides
  /** How many requests one peer may have answered per window. */
  readonly limits: Pick<
    DiscoveryLimits,
    'servedPerPeer' | 'serveWindowMs' | 'providersAsked' | 'askConcurrency' | 'networkDeadlineMs'
  >
  /** The budget's clock (ms; default `Date.now`). */
  readonly clock?: () => number
}

interface Query {
  capability: string
  minConfidence: number
}

/** Serves and runs capability discovery. */
export class Discovery {
  /** The capability types this node announces on the DHT (started with the gossip side, once the mesh is up). */
  readonly provides: CapabilityProvides
  /** Requests answered per peer and window. */
  private readonly served: ServeBudget

  constructor(private readonly c: DiscoveryComponents) {
    this.provides = c.provides
    this.served = new ServeBudget(c.limits.servedPerPeer, c.limits.serveWindowMs, c.clock)
  }

  /** Serve discovery queries for this node's own agents (Startable: before the mesh starts). */
  async start(): Promise<void> {
    await this.c.p2p().registerProtocol(DISCOVER_PROTOCOL, (req, from) => this.answer(req, from))
  }

  /** Nothing of its own to release: the protocol closes with the mesh. */
  stop(): void {}

  /**
   * The registrations of this node's own active agents holding the asked type, best trust first, at most
   * `DISCOVER_ANSWER_MAX` (docs/protocol.md §9): never another node's agents, which it may hold in any number.
   * Every request, junk too, is charged to `from` first; past its budget the answer is `RATE_LIMITED`.
   */
  answer(req: Uint8Array, from: string): Uint8Array {
    this.charge(from)
    const q = parseQuery(req)
    if (q === undefined) return utf8('[]')
    const regs = this.c.agents.ownMatches(q.capability, q.minConfidence, DISCOVER_ANSWER_MAX)
    const items = regs.map((row) => encodeEnvelope(JSON.parse(row.regEnvelope) as RegEnvelope))
    return utf8(JSON.stringify(items.map((bytes) => Buffer.from(bytes).toString('utf8'))))
  }

  private charge(peer: string): void {
    try {
      this.served.take(peer)
    } catch (err) {
      if (!isMeshsigError(err) || err.code !== 'RATE_LIMITED') throw err
      const { servedPerPeer, serveWindowMs } = this.c.limits
      const message = `at most ${servedPerPeer} discovery requests per ${serveWindowMs / 1000} s per peer`
      throw new MeshsigError('RATE_LIMITED', message)
    }
  }

  /**
   * The node's own matches plus remote ones from DHT providers (docs/protocol.md §9, "Capability discovery";
   * decision 0080). The DHT lookup takes at most `networkDeadlineMs`; then at most `providersAsked` providers
   * are asked, `askConcurrency` at a time, all within one more `networkDeadlineMs`: those hosting a stored
   * active registration of the type first, the others at random from all found. Each answers for its own
   * agents only, and the remote part takes one agent from each provider in turn, so no provider fills it alone.
   */
  async network(capability: string, minConfidence: number, limit: number): Promise<NetworkDiscovery> {
    const local = this.c.agents.discoverOwn(capability, minConfidence, limit)
    const { providersAsked, networkDeadlineMs } = this.c.limits
    if (providersAsked === 0) return { local, remote: [], total: local.length }
    const hosts = this.c.agents.discover(capability, minConfidence, PREFERRED_HOSTS_READ).map((r) => r.peerId)
    const find = { limit: providersAsked, prefer: new Set(hosts), timeoutMs: networkDeadlineMs }
    const providers = await this.c.p2p().findCapabilityProviders(capability, find)
    const deadline = AbortSignal.timeout(networkDeadlineMs)
    const answers = await this.askAll(providers, { capability, minConfidence }, deadline)
    const remote = interleave(answers, new Set(local.map((a) => a.did)), limit)
    return { local, remote, total: local.length + remote.length }
  }

  /** Every provider's answer, in the providers' order, asked `askConcurrency` at a time until `deadline`. */
  private async askAll(providers: readonly string[], q: Query, deadline: AbortSignal): Promise<RemoteMatch[][]> {
    const answers: RemoteMatch[][] = providers.map(() => [])
    let next = 0
    const worker = async (): Promise<void> => {
      for (let i = next++; i < providers.length && !deadline.aborted; i = next++) {
        const provider = providers[i]!
        const records = await this.ask(provider, q, deadline)
        answers[i] = records.map((record) => ({ record, provider, via: 'dht' }))
      }
    }
    const workers = Math.min(this.c.limits.askConcurrency, providers.length)
    await Promise.all(Array.from({ length: workers }, worker))
    return answers
  }

  private async ask(provider: string, q: Query, signal?: AbortSignal): Promise<AgentRecord[]> {
    let items: unknown
    try {
      const res = await this.c
        .p2p()
        .request(provider, DISCOVER_PROTOCOL, utf8(JSON.stringify(q)), signal ? { signal } : {})
      items = JSON.parse(Buffer.from(res).toString('utf8'))
    } catch {
      return []
    }
    if (!Array.isArray(items)) return []
    const found: AgentRecord[] = []
    for (const item of items.slice(0, DISCOVER_ANSWER_MAX)) {
      const env = ownRegistration(item, provider)
      if (env === undefined) continue
      // taken as sync's items, refusals under the node-wide audit budget (decision 0053)
      const source = { kind: 'sync', peer: provider } as const
      const v = this.c.ingest.ingest(env, source, { fresh: false })
      // a provider that answers a forgery is asked nothing more in this call (docs/protocol.md §9)
      if (!v.ok && GOSSIP_REJECT_CODES.has(v.error.code)) break
      if (!v.ok && v.error.code !== 'DUPLICATE') continue
      const record = this.c.agents.record(env.did)
      if (record && isMatch(record, provider, q)) found.push(record)
    }
    return found
  }
}

/** Stored registrations of the type read to find the providers asked first (their hosts). */
const PREFERRED_HOSTS_READ = 100

/**
 * An item of `provider`'s answer as a registration of one of its own agents; `undefined` for anything else.
 * A provider answers with its own agents alone (decision 0060): another node's agent in its answer is not
 * believed as its answer, nor stored from it (decision 0080).
 */
function ownRegistration(item: unknown, provider: string): RegEnvelope | undefined {
  if (typeof item !== 'string') return undefined
  let env: Envelope
  try {
    env = decodeEnvelope(item)
  } catch {
    return undefined
  }
  return env.type === 'reg' && env.peerId === provider ? env : undefined
}

/** A stored record that answers `q` from `provider`: active, hosted there, holding the type at `minConfidence`. */
function isMatch(record: AgentRecord, provider: string, q: Query): boolean {
  if (record.status !== 'active' || record.peerId !== provider) return false
  return record.capabilities.some((c) => c.type === q.capability && (c.confidence ?? 1) >= q.minConfidence)
}

/** At most `limit` matches, one from each provider's answer in turn, each agent once and none of `seen`. */
function interleave(answers: readonly RemoteMatch[][], seen: Set<string>, limit: number): RemoteMatch[] {
  const out: RemoteMatch[] = []
  const longest = Math.max(0, ...answers.map((a) => a.length))
  for (let i = 0; i < longest && out.length < limit; i++) {
    for (const answer of answers) {
      const m = answer[i]
      if (m === undefined || seen.has(m.record.did) || out.length >= limit) continue
      seen.add(m.record.did)
      out.push(m)
    }
  }
  return out
}

/** A discovery request's query; `undefined` when it names no capability. Throws `MALFORMED` on non-JSON. */
function parseQuery(req: Uint8Array): Query | undefined {
  let q: unknown
  try {
    q = JSON.parse(Buffer.from(req).toString('utf8'))
  } catch {
    throw new MalformedError('a discovery request is a JSON object')
  }
  if (typeof q !== 'object' || q === null) return undefined
  const { capability, minConfidence } = q as Partial<Query>
  if (typeof capability !== 'string') return undefined
  return { capability, minConfidence: typeof minConfidence === 'number' ? minConfidence : 0 }
}
