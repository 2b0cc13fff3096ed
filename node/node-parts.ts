/**
 * The wiring of a meshsig node: every service constructed once, each given
 * only the callbacks it needs (the mesh is created after the services, so
 * they reach it through `p2p()`). `MeshNode` (mesh-node.ts) starts and stops
 * the startable ones; the facades (node-reads.ts, node-facade.ts) answer the
 * API, CLI and tests from them.
 */
import { availableParallelism } from 'node:os'
import { DEFAULT_MAX_SKEW_MS, MeshsigError, peerIdFromPublicKey, type ChkEnvelope, type KeyPair } from './core/index.js'
import { AuditLog } from './audit/audit-log.js'
import { AuditService } from './audit/audit-service.js'
import { CheckpointNotes } from './audit/checkpoint-notes.js'
import { CheckpointScheduler } from './audit/checkpoint-scheduler.js'
import { NodeEvents } from './events.js'
import { createLogger, type Logger } from './logger.js'
import { loadIdentity, type Identity } from './identity/index.js'
import { limitsFromEnv, resolveLimits } from './limits.js'
import type { MeshNodeInit } from './node-init.js'
import type { NodeParts, NodeState, RegistrationJob } from './node-state.js'
import { openNodeStore } from './node-store.js'
import { AgentCredentials } from './services/agent-credentials.js'
import { AgentService } from './services/agent-service.js'
import { CapabilityProvides } from './services/capability-provides.js'
import { Discovery } from './services/discovery.js'
import { GossipOutbox } from './services/gossip-outbox.js'
import { HandshakeService } from './services/handshake-service.js'
import { Ingest } from './services/ingest.js'
import { RegistryQuota } from './services/registry-quota.js'
import { RenewalBudget } from './services/renewal-budget.js'
import { KeyPairCache } from './services/key-cache.js'
import { KeyService } from './services/key-service.js'
import { MeshGossip } from './services/mesh-gossip.js'
import { CheckpointGate } from './services/checkpoint-gate.js'
import { DeliveryService } from './services/delivery-service.js'
import { MessageRetention } from './services/message-retention.js'
import { MessageService, type SendInput } from './services/message-service.js'
import { PeerDialer } from './services/peer-dialer.js'
import { RefusalAuditBudget } from './services/refusal-audit-budget.js'
import { RelayGuard } from './services/relay-guard.js'
import { ReportService } from './services/report-service.js'
import { SendBatcher } from './services/send-batcher.js'
import { namingPeerId } from './services/registration-prep.js'
import { randomBytesPooled } from './random-pool.js'
import { SignPool } from './services/sign-pool.js'
import { createRegistrySync } from './services/sync-client.js'
import { TrustService } from './services/trust.js'
import { WitnessService } from './services/witness-service.js'
import { heldLog } from './services/witness-logs.js'
import { logKeys } from './services/witness-wiring.js'

export type { NodeParts, NodeState, RegistrationJob } from './node-state.js'

type Base = Pick<
  NodeParts,
  'init' | 'state' | 'did' | 'name' | 'clock' | 'random' | 'log' | 'limits' | 'events' | 'store' | 'p2p' | 'onError'
>

/** Construct every service of a node (opens its store; nothing starts). A failure closes the store again. */
export function wireNode(init: MeshNodeInit): NodeParts {
  const clock = init.clock ?? Date.now
  const log = init.logger ?? createLogger({ level: 'error' })
  const state: NodeState = {
    identity: init.identity,
    p2p: undefined,
    meshReady: false,
    startedAt: clock(),
    lastOnDemand: -Infinity,
  }
  const base: Base = {
    init,
    state,
    did: init.identity.did,
    name: init.name,
    clock,
    random: init.random ?? randomBytesPooled,
    log,
    limits: resolveLimits(init.limits ?? limitsFromEnv()),
    events: new NodeEvents(),
    store: openNodeStore(init),
    p2p: () => {
      if (!state.p2p) throw new MeshsigError('INTERNAL', 'mesh not created')
      return state.p2p
    },
    onError: (err) => backgroundFailure(log, err),
  }
  try {
    return wireServices(base)
  } catch (err) {
    base.store.close()
    throw err
  }
}

function backgroundFailure(log: Logger, err: unknown): void {
  const code = (err as { code?: unknown } | null)?.code
  log.warn('background failure', {
    error: err instanceof Error ? err.message : String(err),
    ...(typeof code === 'string' ? { code } : {}),
  })
}

function wireServices(b: Base): NodeParts {
  // the services call back into `parts` only after construction, when it is set
  const audit = wireAudit(b, (chk) => announceCheckpoint(parts, chk))
  const registry = wireRegistry(b, audit)
  const keyCache = new KeyPairCache()
  const mesh = wireMesh(b, audit, registry)
  const keys = wireKeys(b, { ...audit, ...registry, ...mesh, keyCache }, (rotId) => ownRotation(parts, rotId))
  const parts: NodeParts = { ...b, ...audit, ...registry, ...mesh, ...keys, keyCache }
  return parts
}

function wireAudit(b: Base, onCheckpoint: (chk: ChkEnvelope) => void) {
  const { store, clock, state, did } = b
  const auditLog = new AuditLog(store, clock)
  const lk = logKeys({
    home: b.init.home,
    did,
    identity: () => state.identity.keyPair,
    rotated: () => state.identity.keyState.priorKeys.length > 0,
    clock,
    events: b.events,
  })
  const min = b.init.minCheckpointIntervalMs
  const audit = new AuditService({
    ...(lk.anchor ? { anchor: lk.anchor } : {}),
    onAlarm: lk.alarm,
    store,
    log: auditLog,
    clock,
    nodeDid: () => did,
    nodeKey: () => state.identity.keyPair,
    keyLog: () => store.keyEvents.log(did),
    onCheckpoint,
    ...(min !== undefined ? { minCheckpointIntervalMs: min } : {}),
  })
  const notes = new CheckpointNotes({ store, logKey: lk.log, binding: lk.binding })
  const witness = new WitnessService({
    ...{ store, audit, notes, events: b.events, clock, p2p: b.p2p, onError: b.onError },
    nodeDid: () => did,
    witnessKey: lk.witness,
    binding: lk.binding,
    limits: b.limits.witness,
    // a node it knows by what it signed itself: its inception held, and an agent stored names it (decision 0079)
    knows: (d) => store.agents.controls(d) && store.keyEvents.state(d) !== undefined,
  })
  const checkpoints = new CheckpointScheduler({
    stale: () => audit.stale(),
    checkpoint: async () => audit.checkpoint(),
    onError: b.onError,
    ...(b.init.checkpointIntervalMs !== undefined ? { intervalMs: b.init.checkpointIntervalMs } : {}),
  })
  return { auditLog, audit, notes, witness, checkpoints, trust: new TrustService(store) }
}

type AuditParts = ReturnType<typeof wireAudit>

function wireRegistry(b: Base, a: AuditParts) {
  const { store, clock, did } = b
  const maxSkewMs = b.init.maxSkewMs ?? DEFAULT_MAX_SKEW_MS
  const warn = (message: string) => b.log.warn(message, { component: 'registry' })
  const quota = new RegistryQuota(
    b.limits.registry.maxAgents,
    () => store.agents.count(),
    clock,
    warn,
    10_000,
    () => store.keyEvents.countLogsOfNonAgents(did),
  )
  const renewals = new RenewalBudget(b.limits.registry, clock, warn)
  const refusalAudit = new RefusalAuditBudget(b.limits.gossip, clock)
  const ingest = new Ingest({
    ...{ store, audit: a.auditLog, events: b.events, clock, maxSkewMs, nodeDid: () => did, quota, renewals },
    refusalAudit,
  })
  const registrySync = createRegistrySync({
    ...{ store, ingest, p2p: b.p2p, selfDid: did, onError: b.onError, registryFull: () => quota.isFull() },
    ...(b.init.syncBudget !== undefined ? { budget: b.init.syncBudget } : {}),
  })
  const credentials = new AgentCredentials({ credentials: store.credentials, random: b.random, clock })
  const agents = new AgentService({
    ...{ store, ingest, credentials },
    isOnline: (peerId) =>
      b
        .p2p()
        .peers()
        .some((p) => p.peerId === peerId),
    trust: (agentDid) => a.trust.agent(agentDid).score,
  })
  const retention = new MessageRetention({
    ...{ messages: store.messages, clock, onError: b.onError, maxSkewMs, relay: b.limits.relay },
    ...(b.init.replayPruneIntervalMs !== undefined ? { replayPruneIntervalMs: b.init.replayPruneIntervalMs } : {}),
  })
  return { ingest, registrySync, credentials, agents, retention, refusalAudit }
}

type RegistryParts = ReturnType<typeof wireRegistry>

function wireMesh(b: Base, a: AuditParts, r: RegistryParts) {
  const { store, p2p, onError } = b
  const relay = new RelayGuard(b.limits.relay, b.clock)
  const provides = new CapabilityProvides({
    ...{ agents: store.agents, events: b.events, p2p, limits: b.limits.discovery, onError },
    nodeDid: () => b.did,
    warn: (message) => b.log.warn(message, { component: 'discovery' }),
  })
  const discovery = new Discovery({
    ...{ agents: r.agents, ingest: r.ingest, p2p, provides },
    ...{ limits: b.limits.discovery, clock: b.clock },
  })
  const seeds = (b.init.peers ?? []).filter((a) => !a.startsWith('/')) // multiaddrs are the mesh's bootstrap list
  const dialer = new PeerDialer(p2p, onError, { maxBodyBytes: b.limits.remoteBodyBytes, seeds })
  const antiEntropy = {
    sync: (peerId: string): Promise<unknown> => gossip.syncFrom(peerId),
    intervalMs: b.init.antiEntropyMs,
  }
  const outbox = new GossipOutbox({ p2p, onError, clock: b.clock, antiEntropy })
  const delivery = new DeliveryService({
    ...{ store, ingest: r.ingest, audit: a.audit, p2p, clock: b.clock, onError, limits: b.limits.delivery },
    ...{ nodeDid: () => b.did, nodeKey: () => b.state.identity.keyPair, events: b.events },
    maxSkewMs: b.init.maxSkewMs ?? DEFAULT_MAX_SKEW_MS,
    ...{ budget: b.limits.relay, relay },
    syncFrom: (peerId) => void gossip.syncFrom(peerId),
    publish: (topic, data) => outbox.publish(topic, data),
  })
  const gossip = new MeshGossip({
    ...{ store, ingest: r.ingest, audit: a.audit, events: b.events, outbox, onError, relay, provides },
    sync: r.registrySync.client,
    admission: r.registrySync.admission,
    checkpoints: new CheckpointGate({
      currentKey: (did) => store.keyEvents.state(did)?.key,
      // known by what it signed: an agent stored names it, or this node witnesses its log (review 119, F1)
      hostsAgents: (did) => store.agents.controls(did) || heldLog(store.misc, did) !== undefined,
      clock: b.clock,
    }),
    direct: (msg) => delivery.enqueue(msg),
    refusalAudit: r.refusalAudit,
  })
  return { relay, discovery, dialer, outbox, gossip, delivery }
}

type MeshParts = ReturnType<typeof wireMesh>

/**
 * The PeerId of the node's current key, from its identity: right from the
 * rotation of its key, before the mesh has moved to it, so registrations
 * signed meanwhile name where the node will be (docs/protocol.md §2).
 */
function ownPeerIdOf(state: NodeState): () => string {
  let key: Uint8Array | undefined
  let peerId = ''
  return () => {
    const now = state.identity.keyPair.publicKey
    if (now !== key) [key, peerId] = [now, peerIdFromPublicKey(now)]
    return peerId
  }
}

function wireKeys(
  b: Base,
  p: AuditParts & RegistryParts & MeshParts & { keyCache: KeyPairCache },
  ownRotation: (rotId: string) => (() => void) | undefined,
) {
  const { store, clock, random, did, state, events } = b
  const keyCache = p.keyCache
  const ownPeerId = ownPeerIdOf(state)
  const keyService = new KeyService({
    ...{ store, clock, random, ingest: p.ingest, keys: keyCache, ownRotation },
    nodeDid: () => did,
    nodeKey: () => state.identity.keyPair,
  })
  const handshakes = new HandshakeService({
    ...{ store, clock, random, audit: p.auditLog, events, p2p: b.p2p },
    maxSkewMs: b.init.maxSkewMs ?? DEFAULT_MAX_SKEW_MS,
    limits: b.limits.handshake,
    custodiedKey: (agentDid) => custodiedKey(p, agentDid),
    syncFrom: (peerId) => p.gossip.syncFrom(peerId),
  })
  const messages = new MessageService({
    ...{ store, ingest: p.ingest, clock, random },
    custodiedSeed: (agentDid) => p.agents.custodiedSeed(agentDid),
    keyPair: (seed) => keyCache.get(seed),
  })
  // a direct message enters the durable outbox in its send's transaction: one commit per batch (docs/protocol.md §10)
  const sends = new SendBatcher({
    store,
    events,
    send: (input: SendInput) => {
      const sent = messages.send(input)
      p.delivery.enqueue(sent.envelope, sent.id)
      return sent
    },
  })
  const registrations = new SendBatcher({
    store,
    events,
    send: (job: RegistrationJob) =>
      job.kind === 'custodied'
        ? p.agents.register(namingPeerId(job.prepared, ownPeerId(), (seed) => keyCache.get(seed)))
        : p.agents.registerExternal(job.icp, job.reg),
  })
  const reports = new ReportService({
    ...{ store, clock, random, agents: p.agents },
    peerCount: () => b.p2p().peers().length,
    uptime: () => uptimeSeconds(b),
    node: () => ({ did, name: b.name, publicKey: state.identity.keyState.key, peerId: b.p2p().peerId }),
    verifiable: (size) => p.audit.verifiable(size),
  })
  const signPool = new SignPool(Math.min(2, availableParallelism() - 1), keyCache)
  const presignParts = { store, clock, random, keys: keyCache }
  const registrationParts = { clock, random, nodeDid: () => did, peerId: ownPeerId }
  return { keyService, handshakes, messages, sends, registrations, reports, signPool, presignParts, registrationParts }
}

/** Seconds since the node (last) started. */
export function uptimeSeconds(b: Pick<NodeParts, 'clock' | 'state'>): number {
  return Math.max(0, Math.round((b.clock() - b.state.startedAt) / 1000))
}

/** The custodied key pair of an agent this node registered (cached). */
export function custodiedKey(p: Pick<NodeParts, 'agents' | 'keyCache'>, did: string): KeyPair | undefined {
  const seed = p.agents.custodiedSeed(did)
  return seed === undefined ? undefined : p.keyCache.get(seed)
}

/** Announce and gossip a checkpoint this node signed (periodic, on demand, or for an export). */
function announceCheckpoint(p: NodeParts, chk: ChkEnvelope): void {
  p.events.emit('audit:checkpoint', { origin: chk.origin, size: chk.size, root: chk.root, local: true })
  if (p.state.p2p) void p.gossip.publish([chk]).catch(p.onError)
  if (p.state.meshReady) void p.witness.gather(chk).catch(p.onError)
}

/**
 * The node's own rotation `rotId` is taken up only when the identity file in
 * its home already holds it: returns the switch to the new key, or undefined.
 * The libp2p PeerId follows the new key (MeshNode moves the mesh, docs/protocol.md §2).
 */
function ownRotation(p: NodeParts, rotId: string): (() => void) | undefined {
  if (p.init.home === undefined) return undefined
  let next: Identity
  try {
    next = loadIdentity(p.init.home)
  } catch (err) {
    p.onError(err)
    return undefined
  }
  if (next.did !== p.did || next.keyState.lastId !== rotId) return undefined
  return () => {
    p.state.identity = next
  }
}
