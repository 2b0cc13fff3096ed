/**
 * `createMeshP2P`: a meshsig node on the libp2p mesh. It composes the libp2p
 * node (libp2p-config), gossip wiring (gossip), request-response protocols
 * (request-response, sync), capability discovery (capability), the
 * bootstrap redialler (bootstrap-keeper) and the identify watch
 * (identify-watch) behind the `MeshP2P` interface.
 */
import type { Libp2p, PeerId } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { createLibp2p } from 'libp2p'
import { MeshsigError } from '../core/errors.js'
import { BootstrapKeeper } from './bootstrap-keeper.js'
import { IdentifyWatch, watchedLibp2p } from './identify-watch.js'
import { PingWatch, pingedLibp2p } from './ping-watch.js'
import {
  checkCapabilityType,
  capabilityCid,
  connectedFirst,
  findCapabilityProvidersOn,
  provideCapabilityOn,
  withdrawCapabilityOn,
} from './capability.js'
import {
  BOOTSTRAP_TAG,
  DEFAULT_DHT_TIMEOUT_MS,
  DEFAULT_DIAL_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_SYNC_TIMEOUT_MS,
  SYNC_ANSWER_MS,
  DELIVER_PROTOCOL,
  KAD_PROTOCOL,
  MAX_REQUEST_BYTES,
  SYNC_PROTOCOL,
  type Topic,
} from './constants.js'
import { attachGossip, meshPeersOf, penaliseIn, publishTo, scoreOf, subscribeAll } from './gossip.js'
import { ProviderBoundedDatastore, providerKeyPrefix } from './provider-store.js'
import { libp2pOptions, privateKeyFromSeed, type MeshServices } from './libp2p-config.js'
import { asError, invalidInput, toMeshError } from './p2p-errors.js'
import { DEFAULT_EXCHANGE_LIMITS, deadline, exchange, handleStreaming } from './request-response.js'
import { deliverTo, serveDeliveries } from './deliver-protocol.js'
import { isSeedUrl, resolveSeedAddress } from './seed-address.js'
import { encodeSyncRequest } from './sync.js'
import { syncAnswer, syncServeBudget } from './serve-budget.js'
import { SyncSessions, handleSessions } from './sync-session.js'
import type {
  FindCapabilityOptions,
  MeshCallOptions,
  MeshP2P,
  MeshP2PEvents,
  MeshP2PInit,
  PeerInfo,
  ProtocolHandler,
  SyncLimits,
  SyncRequest,
} from './types.js'

/** A penalised peer's connections get this long to close gracefully, then are aborted (one that keeps writing never lets a graceful close end). */
const PENALTY_HANG_UP_MS = 1_000
/** Addresses of one peer tried when rejoining it after a move to a new key. */
const MAX_REJOIN_ADDRS = 4
const RESERVED_PROTOCOLS = new Set([KAD_PROTOCOL, SYNC_PROTOCOL, DELIVER_PROTOCOL])

function checkInit(init: MeshP2PInit): void {
  if (typeof init !== 'object' || init === null) throw invalidInput('MeshP2PInit is required')
  for (const name of ['validate', 'onMessage', 'syncProvider'] as const) {
    if (typeof init[name] !== 'function') throw invalidInput(`MeshP2PInit.${name} must be a function`)
  }
}

function parseAddr(addr: string): Multiaddr {
  let ma: Multiaddr
  try {
    ma = multiaddr(addr)
  } catch {
    throw invalidInput(`not a multiaddr: ${String(addr).slice(0, 120)}`)
  }
  // a /p2p/ part that is no PeerId is bad input, not a peer that does not answer
  for (const c of ma.getComponents()) if (c.name === 'p2p' && c.value !== undefined) parsePeerId(c.value)
  return ma
}

/**
 * Build a mesh node from its seed and callbacks (not started). Throws
 * `INVALID_INPUT` for a bad seed, listen address or missing callback.
 */
export async function createMeshP2P(init: MeshP2PInit): Promise<MeshP2P> {
  checkInit(init)
  const privateKey = await privateKeyFromSeed(init.seed)
  const datastore = new ProviderBoundedDatastore(peerIdFromPrivateKey(privateKey).toString())
  let libp2p: Libp2p<MeshServices>
  try {
    libp2p = await createLibp2p(await libp2pOptions(init, privateKey, datastore))
  } catch (err) {
    throw toMeshError(err, 'cannot create the libp2p node', 'INVALID_INPUT')
  }
  return new MeshP2PNode(libp2p, init, datastore)
}

class MeshP2PNode implements MeshP2P {
  readonly peerId: string
  private readonly emitter = new EventTarget()
  readonly events: MeshP2PEvents = this.emitter as unknown as MeshP2PEvents
  private readonly keeper: BootstrapKeeper
  private readonly identifyWatch: IdentifyWatch
  private readonly pingWatch: PingWatch
  private readonly syncSessions: SyncSessions
  /** Items served by sync to each peer and to all together (serve-budget.ts). */
  private readonly serveBudget = syncServeBudget()
  /** `starting` from the first start attempt: a start that failed half-way (one listener of two) is still stopped. */
  private state: 'new' | 'starting' | 'started' | 'stopped' = 'new'

  constructor(
    private readonly libp2p: Libp2p<MeshServices>,
    private readonly init: MeshP2PInit,
    private readonly datastore: ProviderBoundedDatastore,
  ) {
    this.peerId = libp2p.peerId.toString()
    this.syncSessions = new SyncSessions(libp2p, SYNC_PROTOCOL)
    attachGossip(libp2p.services.pubsub, init)
    this.keeper = new BootstrapKeeper(
      {
        dial: (addr) => this.dialOnce(addr, {}),
        isConnected: (peerId) => this.isConnected(peerId),
        onBootstrapPeer: (peerId) => this.protect(peerId),
        onError: (err) => this.report(err),
      },
      { entries: init.bootstrap ?? [] },
    )
    this.identifyWatch = new IdentifyWatch(watchedLibp2p(libp2p), init.identifyWatch)
    this.pingWatch = new PingWatch(pingedLibp2p(libp2p), init.pingWatch)
    libp2p.addEventListener('peer:connect', (event) => this.onPeerConnect(event.detail.toString()))
    libp2p.addEventListener('peer:disconnect', (event) => this.onPeerDisconnect(event.detail.toString()))
  }

  multiaddrs(): string[] {
    return this.libp2p.getMultiaddrs().map((ma) => ma.toString())
  }

  async start(): Promise<void> {
    if (this.state === 'started') return
    this.state = 'starting'
    const provider = this.init.syncProvider
    const budget = this.serveBudget
    const answer = (req: Uint8Array, from: string): AsyncIterable<Uint8Array> => syncAnswer(budget, from, req, provider)
    await handleSessions(this.libp2p, SYNC_PROTOCOL, answer, MAX_REQUEST_BYTES)
    try {
      await this.libp2p.start()
    } catch (err) {
      throw toMeshError(err, 'cannot start the libp2p node', 'INVALID_INPUT')
    }
    subscribeAll(this.libp2p.services.pubsub)
    this.state = 'started'
    this.identifyWatch.start()
    this.pingWatch.start()
    await this.keeper.start()
  }

  async stop(): Promise<void> {
    if (this.state === 'new' || this.state === 'stopped') return
    this.state = 'stopped'
    this.keeper.stop()
    this.identifyWatch.stop()
    this.pingWatch.stop()
    await this.libp2p.stop()
  }

  publish(topic: Topic, data: Uint8Array): Promise<{ recipients: number }> {
    this.assertStarted()
    return publishTo(this.libp2p.services.pubsub, topic, data)
  }

  async dial(addr: string, options: MeshCallOptions = {}): Promise<string> {
    this.assertStarted()
    if (typeof addr !== 'string' || addr.length === 0) throw invalidInput('dial needs a multiaddr, PeerId or seed URL')
    if (!isSeedUrl(addr)) return this.dialOnce(addr, options)
    const addrs = await resolveSeedAddress(addr, { signal: options.signal })
    let last: unknown
    for (const candidate of addrs) {
      try {
        return await this.dialOnce(candidate, options)
      } catch (err) {
        last = err
      }
    }
    throw toMeshError(last, `cannot dial seed ${addr}`, 'UNREACHABLE')
  }

  peers(): PeerInfo[] {
    const byPeer = new Map<string, { addrs: string[]; direction?: string }>()
    for (const conn of this.libp2p.getConnections()) {
      const id = conn.remotePeer.toString()
      const entry = byPeer.get(id) ?? { addrs: [], direction: conn.direction }
      entry.addrs.push(conn.remoteAddr.toString())
      byPeer.set(id, entry)
    }
    return [...byPeer].map(([peerId, entry]) => ({ peerId, ...entry }))
  }

  async rejoinAddrs(limit: number): Promise<string[][]> {
    const out: string[][] = []
    for (const { peerId, addrs, direction } of this.peers().slice(0, limit)) {
      const known = await this.libp2p.peerStore.get(peerIdFromString(peerId)).catch(() => undefined)
      // an inbound connection's remote address is the peer's ephemeral port: its listen addresses come from identify
      const listen = (known?.addresses ?? []).map((a) => a.multiaddr.toString())
      const all = [...(direction === 'outbound' ? addrs : []), ...listen]
      const dialable = [...new Set(all.map((a) => (a.includes('/p2p/') ? a : `${a}/p2p/${peerId}`)))]
      if (dialable.length > 0) out.push(dialable.slice(0, MAX_REJOIN_ADDRS))
    }
    return out
  }

  subscribers(topic: Topic): string[] {
    return this.libp2p.services.pubsub.getSubscribers(topic).map((id) => id.toString())
  }

  meshPeers(topic: Topic): string[] {
    return meshPeersOf(this.libp2p.services.pubsub, topic)
  }

  peerScore(peerId: string): number {
    return scoreOf(this.libp2p.services.pubsub, peerId)
  }

  async sync(
    peerId: string,
    request: SyncRequest,
    options: MeshCallOptions & { limits?: SyncLimits } = {},
  ): Promise<Uint8Array[]> {
    this.assertStarted()
    const limits = {
      ...DEFAULT_EXCHANGE_LIMITS,
      timeoutMs: options.timeoutMs ?? DEFAULT_SYNC_TIMEOUT_MS,
      answerMs: SYNC_ANSWER_MS,
      ...(options.limits ? { maxItems: options.limits.maxItems, maxTotalBytes: options.limits.maxBytes } : {}),
    }
    return this.syncSessions.exchange(peerId, encodeSyncRequest(request), limits, options.signal)
  }

  async penalise(peerId: string, penalty: number): Promise<void> {
    this.assertStarted()
    penaliseIn(this.libp2p.services.pubsub, peerId, penalty)
    const signal = AbortSignal.timeout(PENALTY_HANG_UP_MS)
    await this.libp2p.hangUp(parsePeerId(peerId), { signal }).catch((err: unknown) => this.report(err))
  }

  async provideCapability(type: string, options: MeshCallOptions = {}): Promise<void> {
    this.assertStarted()
    checkCapabilityType(type)
    // which types, when and how many at once: node/services/capability-provides.ts (docs/protocol.md §9)
    const signal = deadline(options.timeoutMs ?? DEFAULT_DHT_TIMEOUT_MS, options.signal)
    await provideCapabilityOn(this.libp2p.contentRouting, type, signal)
  }

  async withdrawCapability(type: string): Promise<void> {
    this.assertStarted()
    await withdrawCapabilityOn(this.libp2p.contentRouting, checkCapabilityType(type))
  }

  async findCapabilityProviders(type: string, options: FindCapabilityOptions = {}): Promise<string[]> {
    this.assertStarted()
    checkCapabilityType(type)
    const limit = options.limit ?? 20
    if (!Number.isSafeInteger(limit) || limit < 1) throw invalidInput('limit must be a positive integer')
    return findCapabilityProvidersOn(this.libp2p.contentRouting, type, {
      limit,
      stored: this.datastore.providersUnder(providerKeyPrefix(capabilityCid(type).multihash.bytes)),
      prefer: connectedFirst(options.prefer ?? new Set(), new Set(this.libp2p.getPeers().map(String))),
      self: this.peerId,
      outer: options.signal,
      deadline: deadline(options.timeoutMs ?? DEFAULT_DHT_TIMEOUT_MS, options.signal),
    })
  }

  async registerProtocol(protocol: string, handler: ProtocolHandler): Promise<void> {
    if (typeof protocol !== 'string' || !protocol.startsWith('/') || RESERVED_PROTOCOLS.has(protocol)) {
      throw invalidInput(`not a usable protocol id: ${String(protocol).slice(0, 80)}`)
    }
    if (typeof handler !== 'function') throw invalidInput('a protocol handler must be a function')
    await handleStreaming(this.libp2p, protocol, async (req, from) => [await handler(req, from)])
  }

  async request(
    peerId: string,
    protocol: string,
    data: Uint8Array,
    options: MeshCallOptions = {},
  ): Promise<Uint8Array> {
    this.assertStarted()
    const limits = {
      ...DEFAULT_EXCHANGE_LIMITS,
      maxItems: 1,
      timeoutMs: options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    }
    const items = await exchange(this.libp2p, peerId, protocol, data, limits, options.signal)
    const [answer] = items
    if (answer === undefined) throw new MeshsigError('PEER_ERROR', `peer ${peerId} sent no answer on ${protocol}`)
    return answer
  }

  async serveDeliveries(handler: ProtocolHandler): Promise<void> {
    if (typeof handler !== 'function') throw invalidInput('a delivery handler must be a function')
    await serveDeliveries(this.libp2p, handler)
  }

  async deliver(peerId: string, data: Uint8Array, options: MeshCallOptions = {}): Promise<Uint8Array> {
    this.assertStarted()
    return deliverTo(this.libp2p, peerId, data, options)
  }

  private assertStarted(): void {
    // not (or not yet, or no longer) running: starting, moving to a new key (docs/protocol.md §2) or stopped; retryable
    if (this.state !== 'started')
      throw new MeshsigError('UNREACHABLE', 'the mesh is not running (starting or moving to a new key): retry')
  }

  private async dialOnce(addr: string, options: MeshCallOptions): Promise<string> {
    const target = addr.startsWith('/') ? parseAddr(addr) : parsePeerId(addr)
    const signal = deadline(options.timeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS, options.signal)
    try {
      const connection = await this.libp2p.dial(target, { signal })
      return connection.remotePeer.toString()
    } catch (err) {
      throw toMeshError(err, `cannot dial ${addr}`, 'UNREACHABLE')
    }
  }

  private isConnected(peerId: string): boolean {
    return this.libp2p.getConnections().some((conn) => conn.remotePeer.toString() === peerId)
  }

  private protect(peerId: string): void {
    const tags = { [BOOTSTRAP_TAG]: { value: 100 } }
    this.libp2p.peerStore.merge(peerIdFromString(peerId), { tags }).catch((err) => this.report(err))
  }

  private onPeerConnect(peerId: string): void {
    this.emitter.dispatchEvent(new CustomEvent('peer:connect', { detail: { peerId } }))
  }

  private onPeerDisconnect(peerId: string): void {
    this.emitter.dispatchEvent(new CustomEvent('peer:disconnect', { detail: { peerId } }))
    this.keeper.peerDisconnected(peerId)
  }

  private report(err: unknown): void {
    try {
      this.init.onError?.(asError(err))
    } catch {
      // an onError that throws has nowhere left to report to
    }
  }
}

function parsePeerId(text: string): PeerId {
  try {
    return peerIdFromString(text)
  } catch {
    throw invalidInput(`not a multiaddr or PeerId: ${text.slice(0, 120)}`)
  }
}
