/**
 * A typed in-memory stand-in for node/p2p, for unit tests of the services:
 * no libp2p, no sockets. It implements the part of `MeshP2P` the services
 * use (publish and topic handlers, connected peers, subscribers, sync
 * exchanges with their limits, penalties, DHT provide/find), records what a
 * node published, asked and charged, and delivers between the fake nodes of
 * one `FakeNetwork` that are connected.
 */
import { MeshsigError } from '../../node/core/errors.js'
import type { MeshCallOptions, MeshP2P, PeerInfo, SyncRequest, Topic } from '../../node/p2p/index.js'

/** The mesh surface the services use, as the fake implements it. */
export type FakeP2PSurface = Pick<
  MeshP2P,
  | 'peerId'
  | 'publish'
  | 'peers'
  | 'subscribers'
  | 'sync'
  | 'penalise'
  | 'provideCapability'
  | 'withdrawCapability'
  | 'findCapabilityProviders'
>

/** Receives one gossip message on a topic this fake node subscribed to. */
export type TopicHandler = (data: Uint8Array, from: string) => void

/** Answers one sync request (as `MeshP2PInit.syncProvider` does). */
export type FakeSyncProvider = (
  request: SyncRequest,
  fromPeerId: string,
) => Iterable<Uint8Array> | Promise<Iterable<Uint8Array>>

/** One publication a fake node made, with how many peers it reached. */
export interface Published {
  readonly topic: Topic
  readonly data: Uint8Array
  readonly recipients: number
}

/** One sync request a fake node sent. */
export interface SentSync {
  readonly to: string
  readonly request: SyncRequest
}

/** One penalty a fake node gave. */
export interface Penalty {
  readonly peerId: string
  readonly penalty: number
}

/** Fake nodes and the links between them. */
export class FakeNetwork {
  private readonly nodes = new Map<string, FakeP2P>()
  private readonly links = new Set<string>()

  /** A new fake node on this network (answering sync with nothing until `syncProvider` is set). */
  node(peerId: string, syncProvider: FakeSyncProvider = () => []): FakeP2P {
    if (this.nodes.has(peerId)) throw new Error(`fake node ${peerId} exists already`)
    const node = new FakeP2P(peerId, this, syncProvider)
    this.nodes.set(peerId, node)
    return node
  }

  /** Open a connection between two fake nodes. */
  connect(a: FakeP2P, b: FakeP2P): void {
    this.links.add(linkOf(a.peerId, b.peerId))
  }

  /** Close the connection between two fake nodes. */
  disconnect(a: string, b: string): void {
    this.links.delete(linkOf(a, b))
  }

  /** True while `a` and `b` are connected. */
  connected(a: string, b: string): boolean {
    return this.links.has(linkOf(a, b))
  }

  /** The fake nodes connected to `peerId`. */
  neighbours(peerId: string): FakeP2P[] {
    return [...this.nodes.values()].filter((n) => n.peerId !== peerId && this.connected(peerId, n.peerId))
  }

  /** Every fake node but `peerId`. */
  others(peerId: string): FakeP2P[] {
    return [...this.nodes.values()].filter((n) => n.peerId !== peerId)
  }
}

function linkOf(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`
}

/** One fake mesh node. */
export class FakeP2P implements FakeP2PSurface {
  /** Everything this node published, in order. */
  readonly published: Published[] = []
  /** Every sync request this node sent, in order. */
  readonly syncsSent: SentSync[] = []
  /** Every penalty this node gave, in order. */
  readonly penalties: Penalty[] = []
  /** When set, the next `publish` fails with it (once). */
  failNextPublish: Error | undefined
  private readonly handlers = new Map<Topic, TopicHandler[]>()
  private readonly provided = new Set<string>()

  constructor(
    readonly peerId: string,
    private readonly net: FakeNetwork,
    /** Answers the sync requests of connected peers. */
    public syncProvider: FakeSyncProvider,
  ) {}

  /** Receive what connected peers publish on `topic`. */
  subscribe(topic: Topic, handler: TopicHandler): void {
    this.handlers.set(topic, [...(this.handlers.get(topic) ?? []), handler])
  }

  /** True when this node subscribed to `topic`. */
  isSubscribed(topic: Topic): boolean {
    return (this.handlers.get(topic)?.length ?? 0) > 0
  }

  /** Deliver to every connected subscriber now; resolves with how many there were. */
  publish(topic: Topic, data: Uint8Array): Promise<{ recipients: number }> {
    const failure = this.failNextPublish
    this.failNextPublish = undefined
    if (failure !== undefined) return Promise.reject(failure)
    const to = this.net.neighbours(this.peerId).filter((n) => n.isSubscribed(topic))
    for (const n of to) n.receive(topic, data, this.peerId)
    this.published.push({ topic, data, recipients: to.length })
    return Promise.resolve({ recipients: to.length })
  }

  /** Hand one gossip message to this node's handlers of `topic`. */
  receive(topic: Topic, data: Uint8Array, from: string): void {
    for (const h of this.handlers.get(topic) ?? []) h(data, from)
  }

  /** The connected peers. */
  peers(): PeerInfo[] {
    return this.net.neighbours(this.peerId).map((n) => ({ peerId: n.peerId, addrs: [`/memory/${n.peerId}`] }))
  }

  /** Connected peers subscribed to `topic`. */
  subscribers(topic: Topic): string[] {
    return this.net
      .neighbours(this.peerId)
      .filter((n) => n.isSubscribed(topic))
      .map((n) => n.peerId)
  }

  /**
   * One sync exchange: the request crosses as JSON (as on the wire), the
   * peer's provider answers, and an answer over `limits` fails as
   * `PEER_ERROR` the way node/p2p fails it (no `cause`, no `remoteCode`).
   */
  async sync(
    peerId: string,
    request: SyncRequest,
    options: MeshCallOptions & { limits?: { maxItems: number; maxBytes: number } } = {},
  ): Promise<Uint8Array[]> {
    this.syncsSent.push({ to: peerId, request })
    const peer = this.net.neighbours(this.peerId).find((n) => n.peerId === peerId)
    if (peer === undefined) throw new MeshsigError('UNREACHABLE', `not connected to ${peerId}`, { cause: 'fake' })
    options.signal?.throwIfAborted()
    const wire = JSON.parse(JSON.stringify(request)) as SyncRequest
    let answer: Iterable<Uint8Array>
    try {
      answer = await peer.syncProvider(wire, this.peerId)
    } catch (err) {
      const remoteCode = err instanceof MeshsigError ? err.code : 'INTERNAL'
      throw new MeshsigError('PEER_ERROR', `peer ${peerId} refused sync: ${remoteCode}`, { remoteCode })
    }
    const frames: Uint8Array[] = []
    let bytes = 0
    for (const f of answer) {
      frames.push(f)
      bytes += f.length
      const limits = options.limits
      if (limits !== undefined && (frames.length > limits.maxItems || bytes > limits.maxBytes)) {
        const over = frames.length > limits.maxItems ? 'items' : 'bytes'
        throw new MeshsigError('PEER_ERROR', `peer ${peerId} sent more than the sync response limits`, { over })
      }
    }
    return frames
  }

  /** Record the penalty and close the connection (as node/p2p hangs up). */
  penalise(peerId: string, penalty: number): Promise<void> {
    this.penalties.push({ peerId, penalty })
    this.net.disconnect(this.peerId, peerId)
    return Promise.resolve()
  }

  /** Provide a capability (findable by every other node of the network). */
  provideCapability(type: string): Promise<void> {
    this.provided.add(type)
    return Promise.resolve()
  }

  /** Stop providing a capability. */
  withdrawCapability(type: string): Promise<void> {
    this.provided.delete(type)
    return Promise.resolve()
  }

  /** True when this node provides `type`. */
  provides(type: string): boolean {
    return this.provided.has(type)
  }

  /** Other nodes of the network that provide `type`. */
  findCapabilityProviders(type: string, options: { limit?: number } = {}): Promise<string[]> {
    const found = this.net
      .others(this.peerId)
      .filter((n) => n.provides(type))
      .map((n) => n.peerId)
    return Promise.resolve(found.slice(0, options.limit ?? found.length))
  }
}
