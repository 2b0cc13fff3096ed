/**
 * Capability discovery across the mesh (docs/protocol.md §9, "Capability
 * discovery"): providers of a capability are found on the DHT, then asked
 * over `/meshsig/discover/1.0.0` for their matching agents. Every
 * registration they return is checked like any other envelope before it is
 * believed. What this node announces is `provides` (capability-provides.ts).
 */
import { decodeEnvelope, encodeEnvelope, utf8, type Envelope } from '../core/index.js'
import type { MeshP2P } from '../p2p/index.js'
import type { AgentService } from './agent-service.js'
import type { CapabilityProvides } from './capability-provides.js'
import type { Ingest } from './ingest.js'
import type { AgentRecord } from './records.js'

/** Protocol id of discovery queries. */
export const DISCOVER_PROTOCOL = '/meshsig/discover/1.0.0'

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
}

interface Query {
  capability: string
  minConfidence: number
}

/** Serves and runs capability discovery. */
export class Discovery {
  /** The capability types this node announces on the DHT (started with the gossip side, once the mesh is up). */
  readonly provides: CapabilityProvides

  constructor(private readonly c: DiscoveryComponents) {
    this.provides = c.provides
  }

  /** Serve discovery queries for this node's own agents (Startable: before the mesh starts). */
  async start(): Promise<void> {
    await this.c.p2p().registerProtocol(DISCOVER_PROTOCOL, (req) => this.answer(req))
  }

  /** Nothing of its own to release: the protocol closes with the mesh. */
  stop(): void {}

  private answer(req: Uint8Array): Uint8Array {
    const q = JSON.parse(Buffer.from(req).toString('utf8')) as Partial<Query>
    if (typeof q.capability !== 'string') return utf8('[]')
    const matches = this.c.agents
      .discover(q.capability, typeof q.minConfidence === 'number' ? q.minConfidence : 0, 100)
      .filter((a) => a.origin === 'local')
    const regs = matches.flatMap((a) => {
      const reg = this.c.agents.registration(a.did)
      return reg ? [reg] : []
    })
    return utf8(JSON.stringify(regs.map((r) => Buffer.from(encodeEnvelope(r)).toString('utf8'))))
  }

  /** Local matches plus remote ones from DHT providers. */
  async network(capability: string, minConfidence: number, limit: number): Promise<NetworkDiscovery> {
    const local = this.c.agents.discover(capability, minConfidence, limit).filter((a) => a.origin === 'local')
    const providers = await this.c.p2p().findCapabilityProviders(capability, { limit: 20 })
    const remote: RemoteMatch[] = []
    const seen = new Set(local.map((a) => a.did))
    for (const provider of providers) {
      for (const record of await this.ask(provider, { capability, minConfidence })) {
        if (seen.has(record.did) || remote.length >= limit) continue
        seen.add(record.did)
        remote.push({ record, provider, via: 'dht' })
      }
    }
    return { local, remote, total: local.length + remote.length }
  }

  private async ask(provider: string, q: Query): Promise<AgentRecord[]> {
    let items: unknown
    try {
      const res = await this.c.p2p().request(provider, DISCOVER_PROTOCOL, utf8(JSON.stringify(q)))
      items = JSON.parse(Buffer.from(res).toString('utf8'))
    } catch {
      return []
    }
    if (!Array.isArray(items)) return []
    const found: AgentRecord[] = []
    for (const item of items.slice(0, 100)) {
      if (typeof item !== 'string') continue
      let env: Envelope
      try {
        env = decodeEnvelope(item)
      } catch {
        continue
      }
      if (env.type !== 'reg') continue
      const v = this.c.ingest.ingest(env, { kind: 'sync', peer: provider }, { fresh: false })
      if (!v.ok && v.error.code !== 'DUPLICATE') continue
      const record = this.c.agents.record(env.did)
      if (record && record.status === 'active' && record.capabilities.some((c) => c.type === q.capability)) {
        found.push(record)
      }
    }
    return found
  }
}
