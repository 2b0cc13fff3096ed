/**
 * The in-memory test kit for unit tests of node/services: a store opened
 * through the project's own store module on ':memory:' (no file), a fixed
 * clock moved by hand, deterministic randomness, a logger that records its
 * lines, and `kitNode()`, the parts of one node (store, audit log, events,
 * ingestion) that most services are built from. Pair it with
 * test/helpers/fake-p2p.ts for anything that talks to the mesh.
 */
import { createHash } from 'node:crypto'
import { AuditLog } from '../../node/audit/audit-log.js'
import {
  createInception,
  createRegistration,
  didFromPublicKey,
  generateKeyPair,
  peerIdFromPublicKey,
  type Capability,
  type IcpEnvelope,
  type KeyPair,
  type RegEnvelope,
} from '../../node/core/index.js'
import { NodeEvents, type NodeEvent } from '../../node/events.js'
import { createLogger, type Logger } from '../../node/logger.js'
import { Ingest } from '../../node/services/ingest.js'
import { openStore, type Store } from '../../node/store/index.js'

/** A clock that only moves when told. */
export class FixedClock {
  constructor(public ms: number = Date.UTC(2026, 0, 1)) {}

  /** The clock function services take. */
  readonly now = (): number => this.ms

  /** Move the clock forward. */
  advance(ms: number): void {
    this.ms += ms
  }
}

/** Deterministic bytes: SHA-256 of a seed and a counter, so a run repeats exactly. */
export function seededRandom(seed: string): (n: number) => Uint8Array {
  let counter = 0
  return (n) => {
    const out = new Uint8Array(n)
    for (let o = 0; o < n; o += 32) {
      const block = createHash('sha256').update(`${seed}:${counter++}`).digest()
      out.set(block.subarray(0, Math.min(32, n - o)), o)
    }
    return out
  }
}

/** A deterministic uniform number in [0, 1) from `random` bytes. */
export function seededUniform(random: (n: number) => Uint8Array): () => number {
  return () => new DataView(random(4).buffer).getUint32(0) / 2 ** 32
}

/** One line a recording logger wrote. */
export interface LogLine {
  readonly level: string
  readonly component: string
  readonly msg: string
  readonly [field: string]: unknown
}

/** The project's logger, writing JSON lines into `lines` instead of standard error. */
export function recordingLogger(): { readonly logger: Logger; readonly lines: LogLine[] } {
  const lines: LogLine[] = []
  const logger = createLogger({ level: 'debug', json: true, write: (l) => lines.push(JSON.parse(l) as LogLine) })
  return { logger, lines }
}

/** A fresh store in memory, through node/store (migrations and all), sealed with a fixed custody key. */
export function memoryStore(): Store {
  return openStore({ path: ':memory:', custodyKey: new Uint8Array(32).fill(7), custodyKeySource: 'test kit' })
}

/** The parts of one node that services are built from. */
export interface KitNode {
  readonly store: Store
  readonly audit: AuditLog
  readonly events: NodeEvents
  /** Every event emitted, in order. */
  readonly emitted: NodeEvent[]
  readonly ingest: Ingest
  readonly clock: FixedClock
  readonly random: (n: number) => Uint8Array
  /** The node's own key, DID and PeerId (deterministic from the seed name). */
  readonly key: KeyPair
  readonly did: string
  readonly peerId: string
  /** Close the store. */
  close(): void
}

/** Options of `kitNode`. */
export interface KitNodeOptions {
  /** Seeds the node's randomness and key (default 'node'). */
  readonly seed?: string
  /** Shares a clock between nodes. */
  readonly clock?: FixedClock
  /** Freshness window of acceptance (default 5 min). */
  readonly maxSkewMs?: number
}

/** One node's store, audit log, events and ingestion, all in memory. */
export function kitNode(opts: KitNodeOptions = {}): KitNode {
  const random = seededRandom(opts.seed ?? 'node')
  const clock = opts.clock ?? new FixedClock()
  const store = memoryStore()
  const audit = new AuditLog(store, clock.now)
  const events = new NodeEvents()
  const emitted: NodeEvent[] = []
  events.subscribe((e) => emitted.push(e))
  const key = generateKeyPair(random)
  const did = didFromPublicKey(key.publicKey)
  const ingest = new Ingest({
    store,
    audit,
    events,
    clock: clock.now,
    maxSkewMs: opts.maxSkewMs ?? 5 * 60_000,
    nodeDid: () => did,
  })
  return {
    store,
    audit,
    events,
    emitted,
    ingest,
    clock,
    random,
    key,
    did,
    peerId: peerIdFromPublicKey(key.publicKey),
    close: () => store.close(),
  }
}

/** One audit entry as a test reads it. */
export interface KitAuditEntry {
  readonly kind: string
  readonly subject: string | null
  readonly envelopeId: string | null
  readonly code: string | null
  readonly data: unknown
}

/** The audit entries of a store as a test reads them: kind, subject, envelope id, code, data. */
export function auditEntries(store: Store): KitAuditEntry[] {
  return store.auditEntries.entries(0, store.auditEntries.count()).map((row) => {
    const e = JSON.parse(row.entry) as Omit<KitAuditEntry, 'code'> & { code?: string }
    return { kind: e.kind, subject: e.subject, envelopeId: e.envelopeId, code: e.code ?? null, data: e.data }
  })
}

/** An agent's keys with its signed inception and registration. */
export interface KitAgent {
  readonly key: KeyPair
  /** The key its inception commits to (pre-rotation). */
  readonly next: KeyPair
  readonly did: string
  readonly icp: IcpEnvelope
  readonly reg: RegEnvelope
}

/** A new agent controlled by `controller` (a node DID), signed at `ts` with deterministic keys. */
export function kitAgent(
  random: (n: number) => Uint8Array,
  ts: number,
  init: { controller: string; peerId: string; name?: string; capabilities?: readonly Capability[] },
): KitAgent {
  const key = generateKeyPair(random)
  const next = generateKeyPair(random)
  const icp = createInception(key, ts, next)
  const reg = createRegistration(
    {
      did: icp.did,
      name: init.name ?? 'agent',
      capabilities: init.capabilities ?? [{ type: 'test' }],
      controller: init.controller,
      peerId: init.peerId,
      ts,
    },
    key,
  )
  return { key, next, did: icp.did, icp, reg }
}
