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
import { peerIdFromPublicKey } from './core/did.js'
import { createMeshP2P, PRESENCE_TOPIC, type MeshP2PInit } from './p2p/index.js'
import { refreshRegistrations } from './services/registration-refresh.js'
import { answerSync } from './services/sync.js'
import { trustSampling } from './services/trust-sampling.js'

export type { MeshNodeInit } from './node-init.js'
export type { NodeInfo } from './core/views.js'

/** A running meshsig node. Create with `MeshNode.create`, then `start()`. */
export class MeshNode extends NodeFacade {
  private readonly startables: readonly NamedStartable[]
  /** The parts that hold the libp2p node or its protocols, restarted when the node's key moves. */
  private readonly meshParts: readonly NamedStartable[]
  private moving: Promise<void> = Promise.resolve()
  /** From `start()` to `stop()`: a move to a new key is made (or retried) only meanwhile. */
  private running = false
  private retry: NodeJS.Timeout | undefined
  private retryMs = MOVE_RETRY_MS

  private constructor(parts: NodeParts) {
    super(parts)
    // trust over time is sampled by the node itself, not only while a dashboard asks (trust-sampling.ts)
    const trust = { name: 'trust-samples', part: trustSampling(() => this.history(), parts.onError) }
    this.meshParts = meshPartsOf(parts)
    this.startables = [...coreParts(parts), ...this.meshParts, ...laterParts(parts), trust]
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
      parts.state.p2p = await createMeshP2P(meshInit(parts, init.identity.keyPair.seed))
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
    this.running = true
    await startAll(this.startables, this.log).catch((err: unknown) => {
      this.running = false
      throw err
    })
    this.parts.state.meshReady = true
  }

  /** Signing worker threads alive (for tests and diagnostics): 0 until the first batch of custodied sends, and after `stop`. */
  workerThreads(): number {
    return this.parts.signPool.threads()
  }

  /**
   * After a rotation of the node's own key (docs/protocol.md §6): stop the
   * mesh parts, make the libp2p node again with the new key (a new PeerId on
   * the same addresses), and start them again; the registrations of the
   * node's own agents are signed again naming the new PeerId and gossiped.
   * Moves run one at a time; `/health` says `"mesh": "starting"` meanwhile. A
   * move that fails (a listen port taken meanwhile) leaves the mesh stopped,
   * is reported, and is tried again with a doubling delay until it succeeds
   * or the node stops; `stop()` waits for a move under way.
   */
  protected override followOwnKey(): Promise<void> {
    const move = this.moving.then(() => this.moveMesh())
    this.moving = move.catch(() => undefined)
    return move
  }

  private async moveMesh(): Promise<void> {
    const { state } = this.parts
    const seed = state.identity.keyPair.seed
    const owed = state.p2p?.peerId !== peerIdFromPublicKey(state.identity.keyPair.publicKey) || !state.meshReady
    if (!this.running || !owed) return
    clearTimeout(this.retry)
    const peers = state.meshReady ? await this.parts.p2p().rejoinAddrs(REJOIN_PEERS) : []
    state.meshReady = false
    try {
      await stopAll(this.meshParts, this.log)
      state.p2p = await createMeshP2P(meshInit(this.parts, seed))
      await startAll(this.meshParts, this.log)
    } catch (err) {
      this.retryMove()
      throw err
    }
    this.retryMs = MOVE_RETRY_MS
    state.meshReady = true
    // the peers it had: they cannot redial a PeerId they do not know yet (seed peers are redialled anyway)
    for (const addrs of peers) void rejoin(this.parts, addrs)
  }

  /** Try a failed move again later (docs/protocol.md §2), while the node runs. */
  private retryMove(): void {
    if (!this.running) return
    this.retry = setTimeout(() => void this.followOwnKey().catch(this.parts.onError), this.retryMs)
    this.retry.unref()
    this.retryMs = Math.min(this.retryMs * 2, MOVE_RETRY_MAX_MS)
  }

  /** Leave the mesh, stop every part in reverse order and close the store; idempotent. Waits for a move under way. */
  async stop(): Promise<void> {
    this.running = false
    clearTimeout(this.retry)
    await this.moving
    this.parts.state.meshReady = false
    await stopAll(this.startables, this.log)
  }
}

/** The libp2p node's options: the node's key `seed`, its listen addresses and the hooks into its services. */
function meshInit(parts: NodeParts, seed: Uint8Array): MeshP2PInit {
  const { init } = parts
  return {
    seed,
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
  }
}

/** The parts before the mesh, in start order (stopped in reverse, the store last). */
function coreParts(p: NodeParts): readonly NamedStartable[] {
  return [
    step('store', noop, () => p.store.close()),
    { name: 'sends', part: p.sends },
    { name: 'registrations', part: p.registrations },
    { name: 'sign-pool', part: p.signPool },
    step('own-key-log', () => ownKeyLog(p), noop),
  ]
}

/** The parts that hold the libp2p node, its listeners, protocols and peers (restarted by a move to a new key). */
function meshPartsOf(p: NodeParts): readonly NamedStartable[] {
  let refreshed: readonly RegEnvelope[] = []
  return [
    step('refresh-registrations', async () => void (refreshed = await refreshOwnRegistrations(p)), noop),
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
  ]
}

/** The timers after the mesh, and the parts tests add. */
function laterParts(p: NodeParts): readonly NamedStartable[] {
  return [
    { name: 'checkpoints', part: p.checkpoints },
    { name: 'retention', part: p.retention },
    ...(p.init.extraStartables ?? []),
  ]
}

function noop(): void {}

/** First delay before a failed move to a new key is tried again (ms); doubles up to `MOVE_RETRY_MAX_MS`. */
const MOVE_RETRY_MS = 1_000
const MOVE_RETRY_MAX_MS = 60_000

/** Peers a node that moved to a new key dials again (those it was connected to, at most). */
const REJOIN_PEERS = 64

/** Dial one peer at the first of its addresses that answers; a peer that answers none is left to find us. */
async function rejoin(p: NodeParts, addrs: readonly string[]): Promise<void> {
  for (const addr of addrs) {
    try {
      await p.p2p().dial(addr)
      return
    } catch {
      // the next address
    }
  }
}

/** The node's own key event log, from its identity file. */
function ownKeyLog(p: NodeParts): void {
  for (const event of p.state.identity.file.keyLog) p.ingest.ingest(event, { kind: 'local' }, { fresh: false })
}

function peerEvents(p: NodeParts): void {
  p.p2p().events.addEventListener('peer:connect', (e) => p.gossip.onPeerConnect(e.detail.peerId))
  p.p2p().events.addEventListener('peer:disconnect', (e) => p.gossip.onPeerDisconnect(e.detail.peerId))
}

/** Registrations of local agents renewed for this start (a new PeerId after a key rotation): gossiped once the mesh is up. */
function refreshOwnRegistrations(p: NodeParts): Promise<RegEnvelope[]> {
  const { store, ingest, events, keyCache: keys, clock, onError, did: nodeDid } = p
  return refreshRegistrations({ store, ingest, events, keys, clock, onError, nodeDid, peerId: p.p2p().peerId })
}

function publish(p: NodeParts, envelopes: readonly RegEnvelope[]): void {
  if (envelopes.length > 0) void p.gossip.publish(envelopes).catch(p.onError)
}
