/**
 * Prometheus metrics (`GET /metrics`, text format) on a registry of the API's
 * own: HTTP requests by route and status, signatures verified and rejected
 * (by code), gossip in and out, peers, agents, audit log size, WebSocket
 * clients, plus the process metrics of prom-client.
 */
import type { NextFunction, Request, Response } from 'express'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { NodeEvent } from '../node/events.js'

/** A gauge with one label, set at each scrape from the `[label value, count]` pairs `read` gives. */
function labelledGauge(
  registry: Registry,
  name: string,
  help: string,
  label: string,
  read: () => Iterable<readonly [string, number]>,
): void {
  new Gauge({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect() {
      for (const [value, n] of read()) this.set({ [label]: value }, n)
    },
  })
}

/** What the gauges read when scraped. */
export interface MetricSources {
  peers(): number
  agents(): number
  auditEntries(): number
  wsClients(): number
  /** Gossiped messages and direct deliveries the relay quotas held back, by reason (issue 9, decision 0062). */
  relayDropped?(): Readonly<Record<string, number>>
  /** Gossip and delivery refusals counted but not audited entry by entry, past the node-wide budget (decision 0053), by code. */
  unauditedRefusals?(): Readonly<Record<string, number>>
  /** Warnings and errors logged so far, per component (background failures, 500s). */
  problems?(): ReadonlyMap<string, number>
  /** Direct messages this node sent that wait for a receipt (docs/protocol.md §10). */
  undelivered?(): number
  /** Split views of logs the node does not know, past the node-wide budget: counted, not recorded (decision 0066). */
  unrecordedEvidence?(): number
}

const LOCAL_SOURCES = new Set(['api', 'local'])

/** The API's metrics. */
export class ApiMetrics {
  /** The registry `/metrics` renders. */
  readonly registry = new Registry()
  private readonly requests: Counter<'method' | 'route' | 'status'>
  private readonly duration: Histogram<'route'>
  private readonly verified: Counter
  private readonly rejected: Counter<'code'>
  private readonly gossip: Counter<'direction' | 'type'>
  private readonly limited: Counter
  private readonly streamDrops: Counter

  constructor(sources: MetricSources) {
    const registers = [this.registry]
    this.requests = new Counter({
      name: 'meshsig_http_requests_total',
      help: 'HTTP requests answered',
      labelNames: ['method', 'route', 'status'],
      registers,
    })
    this.duration = new Histogram({
      name: 'meshsig_http_request_duration_seconds',
      help: 'Time to answer HTTP requests',
      labelNames: ['route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    })
    this.verified = new Counter({
      name: 'meshsig_signatures_verified_total',
      help: 'Signatures and envelopes that verified',
      registers,
    })
    this.rejected = new Counter({
      name: 'meshsig_signatures_rejected_total',
      help: 'Signatures and envelopes rejected, by error code',
      labelNames: ['code'],
      registers,
    })
    this.gossip = new Counter({
      name: 'meshsig_gossip_envelopes_total',
      help: 'Envelopes accepted from gossip (in) and published by this node (out)',
      labelNames: ['direction', 'type'],
      registers,
    })
    this.limited = new Counter({
      name: 'meshsig_http_rate_limited_total',
      help: 'Requests refused by the rate limit',
      registers,
    })
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read())
        },
      })
    }
    gauge('meshsig_peers', 'Connected mesh peers', sources.peers)
    gauge('meshsig_agents', 'Agents known to this node', sources.agents)
    gauge('meshsig_audit_entries', 'Entries in the audit log', sources.auditEntries)
    gauge('meshsig_websocket_clients', 'Open WebSocket event stream clients', sources.wsClients)
    if (sources.undelivered) {
      gauge('meshsig_messages_undelivered', 'Direct messages in the outbox waiting for a receipt', sources.undelivered)
    }
    this.streamDrops = this.boundsMetrics(sources)
    collectDefaultMetrics({ register: this.registry, prefix: 'meshsig_' })
  }

  /** Middleware timing every request and counting it by route template and status. */
  middleware(): (req: Request, res: Response, next: NextFunction) => void {
    return (req, res, next) => {
      const start = process.hrtime.bigint()
      res.once('finish', () => {
        const route = req.route ? String((req.route as { path?: unknown }).path) : 'unmatched'
        this.observeRequest(req.method, route, res.statusCode, start)
      })
      next()
    }
  }

  /** Count one answered request and its duration (`start` from `process.hrtime.bigint()`). */
  observeRequest(method: string, route: string, status: number, start: bigint): void {
    this.requests.inc({ method, route, status: String(status) })
    this.duration.observe({ route }, Number(process.hrtime.bigint() - start) / 1e9)
  }

  /** Count one verified signature. */
  signatureVerified(): void {
    this.verified.inc()
  }

  /** Count one rejected signature or envelope. */
  signatureRejected(code: string): void {
    this.rejected.inc({ code })
  }

  /** Metrics of the node's bounds (issue 9) and its logged problems: stream clients dropped, relayed messages ignored by reason, warnings and errors by component. */
  private boundsMetrics(sources: MetricSources): Counter {
    const registers = [this.registry]
    const unrecorded = sources.unrecordedEvidence
    if (unrecorded !== undefined) {
      new Gauge({
        name: 'meshsig_witness_evidence_unrecorded_total',
        help: 'Split views of logs this node does not know past limits.witness.unknownEvidencePerWindow, not recorded',
        registers,
        collect() {
          this.set(unrecorded())
        },
      })
    }
    const problems = sources.problems
    if (problems !== undefined) {
      const help = 'Warnings and errors logged (background failures, internal errors), by component'
      labelledGauge(this.registry, 'meshsig_logged_problems_total', help, 'component', problems)
    }
    const relayDropped = sources.relayDropped
    if (relayDropped !== undefined) {
      const help =
        'Gossiped messages ignored and direct deliveries refused by the relay quotas, by reason (unregistered, peer-budget, did-budget)'
      labelledGauge(this.registry, 'meshsig_relay_dropped_total', help, 'reason', () => Object.entries(relayDropped()))
    }
    const unaudited = sources.unauditedRefusals
    if (unaudited !== undefined) {
      const help =
        'Gossip and delivery refusals past the budget of audited ones (limits.gossip), counted not audited, by code'
      labelledGauge(this.registry, 'meshsig_gossip_refusals_unaudited_total', help, 'code', () =>
        Object.entries(unaudited()),
      )
    }
    return new Counter({
      name: 'meshsig_websocket_dropped_total',
      help: 'WebSocket stream clients dropped for falling behind (send buffer past its bound)',
      registers,
    })
  }

  /** Count one WebSocket client dropped for passing its buffer bound. */
  streamDropped(): void {
    this.streamDrops.inc()
  }

  /** Count one request refused by the rate limit. */
  rateLimited(): void {
    this.limited.inc()
  }

  /** Count what the node's events say: verified and rejected envelopes, gossip in and out. */
  observe(event: NodeEvent): void {
    const source = 'source' in event.data && typeof event.data.source === 'string' ? event.data.source : undefined
    switch (event.type) {
      case 'message:signed':
      case 'message:received':
      case 'agent:registered':
        this.verified.inc()
        this.countGossip(source, event.type === 'agent:registered' ? 'reg' : 'msg')
        return
      case 'agent:rotated':
      case 'agent:revoked':
        this.verified.inc()
        return
      case 'message:rejected':
        this.rejected.inc({ code: String(event.data.code ?? 'UNKNOWN') })
        return
      default:
        return
    }
  }

  private countGossip(source: string | undefined, type: string): void {
    if (source === 'gossip') this.gossip.inc({ direction: 'in', type })
    else if (source !== undefined && LOCAL_SOURCES.has(source)) this.gossip.inc({ direction: 'out', type })
  }

  /** The metrics in Prometheus text format. */
  render(): Promise<string> {
    return this.registry.metrics()
  }
}
