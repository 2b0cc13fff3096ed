/**
 * A meshsig node: composition only. `create` wires every service
 * (node-parts.ts) and the libp2p mesh; `start` starts the startable parts in
 * order and `stop` stops them in reverse (node/lifecycle.ts): a part that
 * fails to start stops those already started, so a failed start leaves no
 * socket, timer, worker or open store behind. The service interface the API,
 * CLI and tests call lives in node-reads.ts and node-facade.ts.
 */
import type { RegEnvelope } from './core/index.js'
import { startAll, step, stopAll, type NamedStartable } from './lifecycle.js'
import type { MeshNodeInit } from './node-init.js'
import { NodeFacade } from './node-facade.js'
import { wireNode, type NodeParts } from './node-parts.js'
import { createMeshP2P, PRESENCE_TOPIC } from './p2p/index.js'
import { refreshRegistrations } from './services/registration-refresh.js'
import { answerSync } from './services/sync.js'
import { trustSampling } from './services/trust-sampling.js'

export type { MeshNodeInit } from './node-init.js'
export type { NodeInfo } from './core/views.js'

/** A running meshsig node. Create with `MeshNode.create`, then `start()`. */
export class MeshNode extends NodeFacade {
  private readonly startables: readonly NamedStartable[]

  private constructor(parts: NodeParts) {
    super(parts)
    // trust over time is sampled by the node itself, not only while a dashboard asks (trust-sampling.ts)
    const trust = { name: 'trust-samples', part: trustSampling(() => this.history(), parts.onError) }
    this.startables = [...startablesOf(parts), trust]
  }

  /** Make a node (opens the store and creates the mesh; nothing listens until `start`). */
  static async create(init: MeshNodeInit): Promise<MeshNode> {
    const parts = wireNode(init)
    const node = new MeshNode(parts)
    parts.events.subscribe((e) => {
      if (e.type === 'key:duplicity' && typeof e.data.id === 'string' && parts.state.p2p)
        parts.gossip.spreadDuplicity(e.data.id)
    })
    try {
      parts.state.p2p = await createMeshP2P({
        seed: init.identity.keyPair.seed,
        ...(init.listen ? { listen: init.listen } : {}),
        ...(init.transports ? { transports: init.transports } : {}),
        bootstrap: (init.peers ?? []).filter((p) => p.startsWith('/')),
        validate: (topic, data, from, via) =>
          topic === PRESENCE_TOPIC
            ? parts.delivery.validatePresence(data, from)
            : parts.gossip.validate(topic, data, via, from),
        onMessage: () => undefined,
        syncProvider: (request) => answerSync(parts.registrySync.index, request),
        denyPeer: (peerId) => parts.registrySync.client.isBanned(peerId),
        ...(init.denyDialPeer !== undefined ? { denyDialPeer: init.denyDialPeer } : {}),
        onError: parts.onError,
        ...(init.dhtQuerySelfInterval !== undefined ? { dhtQuerySelfInterval: init.dhtQuerySelfInterval } : {}),
        ...(init.heartbeatInterval !== undefined ? { heartbeatInterval: init.heartbeatInterval } : {}),
        ...(init.allowedHosts !== undefined ? { wsAllowedHosts: init.allowedHosts } : {}),
      })
    } catch (err) {
      await node.stop()
      throw err
    }
    return node
  }

  /**
   * Join the mesh: own key log in, protocols up, mesh listening, peers
   * dialled, timers running. On a failure everything started is stopped again
   * (the store closed) and the original error is thrown.
   */
  async start(): Promise<void> {
    this.parts.state.startedAt = this.parts.clock()
    await startAll(this.startables, this.log)
    this.parts.state.meshReady = true
  }

  /** Signing worker threads alive (for tests and diagnostics): 0 until the first batch of custodied sends, and after `stop`. */
  workerThreads(): number {
    return this.parts.signPool.threads()
  }

  /** Leave the mesh, stop every part in reverse order and close the store; idempotent. */
  async stop(): Promise<void> {
    this.parts.state.meshReady = false
    await stopAll(this.startables, this.log)
  }
}

/** The startable parts of a node, in start order (stopped in reverse). */
function startablesOf(p: NodeParts): readonly NamedStartable[] {
  const extra = p.init.extraStartables ?? []
  let refreshed: readonly RegEnvelope[] = []
  return [
    step('store', noop, () => p.store.close()),
    { name: 'sends', part: p.sends },
    { name: 'registrations', part: p.registrations },
    { name: 'sign-pool', part: p.signPool },
    step('own-key-log', () => ownKeyLog(p), noop),
    step('refresh-registrations', () => void (refreshed = refreshOwnRegistrations(p)), noop),
    step('peer-events', () => peerEvents(p), noop),
    { name: 'discovery', part: p.discovery },
    { name: 'handshakes', part: p.handshakes },
    { name: 'witness', part: p.witness },
    { name: 'mesh', part: { start: () => p.p2p().start(), stop: () => p.state.p2p?.stop() } },
    { name: 'delivery', part: p.delivery },
    step('publish-registrations', () => publish(p, refreshed), noop),
    { name: 'gossip', part: p.gossip },
    { name: 'seed-peers', part: p.dialer },
    { name: 'outbox', part: p.outbox },
    { name: 'checkpoints', part: p.checkpoints },
    { name: 'retention', part: p.retention },
    ...extra,
  ]
}

function noop(): void {}

/** The node's own key event log, from its identity file. */
function ownKeyLog(p: NodeParts): void {
  for (const event of p.state.identity.file.keyLog) p.ingest.ingest(event, { kind: 'local' }, { fresh: false })
}

function peerEvents(p: NodeParts): void {
  p.p2p().events.addEventListener('peer:connect', (e) => p.gossip.onPeerConnect(e.detail.peerId))
  p.p2p().events.addEventListener('peer:disconnect', (e) => p.gossip.onPeerDisconnect(e.detail.peerId))
}

/** Registrations of local agents renewed for this start (a new PeerId after a key rotation): gossiped once the mesh is up. */
function refreshOwnRegistrations(p: NodeParts): RegEnvelope[] {
  const parts = { store: p.store, ingest: p.ingest, keys: p.keyCache, clock: p.clock }
  return refreshRegistrations({ ...parts, nodeDid: p.did, peerId: p.p2p().peerId })
}

function publish(p: NodeParts, envelopes: readonly RegEnvelope[]): void {
  if (envelopes.length > 0) void p.gossip.publish(envelopes).catch(p.onError)
}
