/**
 * Dashboard state: built from the stream's `snapshot`, then kept current by
 * applying each incremental event. Pure functions over a plain object, so
 * the component layer only has to make it reactive.
 */
import { shortDid } from './format.js'
import type { Agent, Capability, Connection, Message, NodeInfo, Snapshot, Stats, StreamEvent } from './types.js'

/** An edge of the graph: messages from one agent to another, or a verified handshake. */
export interface Link {
  readonly id: string
  readonly from: string
  readonly to: string
  readonly kind: 'message' | 'connection'
  count: number
}

/** The latest message, for the graph to flash its edge. */
export interface Pulse {
  readonly seq: number
  readonly from: string
  readonly to: string | null
}

/** Everything the dashboard shows. */
export interface DashboardState {
  node: NodeInfo | null
  /** Node uptime (s) at `uptimeAt` (ms, this browser's clock). */
  uptimeBase: number
  uptimeAt: number
  stats: Stats
  agents: Record<string, Agent>
  links: Record<string, Link>
  peers: string[]
  pulse: Pulse | null
}

/** All counters at zero. */
export function emptyStats(): Stats {
  return {
    agents: 0,
    active: 0,
    revoked: 0,
    localAgents: 0,
    remoteAgents: 0,
    connections: 0,
    messages: 0,
    peers: 0,
    auditEntries: 0,
    uptime: 0,
  }
}

/** A state with nothing in it yet. */
export function emptyState(): DashboardState {
  return { node: null, uptimeBase: 0, uptimeAt: 0, stats: emptyStats(), agents: {}, links: {}, peers: [], pulse: null }
}

function messageLinkId(from: string, to: string): string {
  return `m:${from}>${to}`
}

function connectionLinkId(a: string, b: string): string {
  return a < b ? `c:${a}<>${b}` : `c:${b}<>${a}`
}

function addMessageLink(links: Record<string, Link>, from: string, to: string | null): void {
  if (to === null || to === from) return
  const id = messageLinkId(from, to)
  const link = links[id]
  if (link) link.count += 1
  else links[id] = { id, from, to, kind: 'message', count: 1 }
}

function addConnectionLink(links: Record<string, Link>, c: Pick<Connection, 'fromDid' | 'toDid'>): void {
  const id = connectionLinkId(c.fromDid, c.toDid)
  const link = links[id]
  if (link) link.count += 1
  else links[id] = { id, from: c.fromDid, to: c.toDid, kind: 'connection', count: 1 }
}

function linksOf(messages: readonly Message[], connections: readonly Connection[]): Record<string, Link> {
  const links: Record<string, Link> = {}
  for (const c of connections) addConnectionLink(links, c)
  for (const m of messages) addMessageLink(links, m.from, m.to)
  return links
}

/** Replace the state with a snapshot (the stream's first event, or a refresh). */
export function applySnapshot(state: DashboardState, snap: Snapshot, now: number = Date.now()): void {
  state.node = snap.node
  state.uptimeBase = snap.node.uptime
  state.uptimeAt = now
  state.stats = { ...emptyStats(), ...snap.stats }
  const agents: Record<string, Agent> = {}
  for (const a of snap.agents) agents[a.did] = a
  state.agents = agents
  state.links = linksOf(snap.messages, snap.connections)
  state.peers = snap.peers.map((p) => p.peerId)
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : ''
}

function capabilitiesOf(v: unknown): Capability[] {
  if (!Array.isArray(v)) return []
  return v.filter((c): c is Capability => typeof c === 'object' && c !== null && typeof c.type === 'string')
}

function onRegistered(state: DashboardState, d: Record<string, unknown>, at: string): void {
  const did = str(d.did)
  if (did === '' || state.agents[did]) return
  const controller = str(d.controller)
  const local = controller === state.node?.did
  state.agents[did] = {
    did,
    publicKey: '',
    name: str(d.name) || did,
    capabilities: capabilitiesOf(d.capabilities),
    status: 'active',
    keySeq: 0,
    trustScore: 0.5,
    interactionsTotal: 0,
    online: local,
    origin: local ? 'local' : 'remote',
    originServer: controller,
    createdAt: at,
  }
  state.stats.agents += 1
  state.stats.active += 1
  if (local) state.stats.localAgents += 1
  else state.stats.remoteAgents += 1
}

function onRevoked(state: DashboardState, d: Record<string, unknown>, at: string): void {
  const agent = state.agents[str(d.did)]
  if (agent === undefined || agent.status === 'revoked') return
  agent.status = 'revoked'
  agent.online = false
  agent.revokedAt = at
  agent.revocationReason = str(d.reason)
  state.stats.active -= 1
  state.stats.revoked += 1
}

function onMessage(state: DashboardState, d: Record<string, unknown>): void {
  const from = str(d.from)
  const to = typeof d.to === 'string' ? d.to : null
  state.stats.messages += 1
  state.stats.auditEntries += 1
  for (const did of [from, to]) {
    const agent = did === null ? undefined : state.agents[did]
    if (agent) agent.interactionsTotal += 1
  }
  addMessageLink(state.links, from, to)
  state.pulse = { seq: (state.pulse?.seq ?? 0) + 1, from, to }
}

function onPeer(state: DashboardState, peerId: string, connected: boolean): void {
  const others = state.peers.filter((p) => p !== peerId)
  state.peers = connected ? [...others, peerId] : others
  state.stats.peers = state.peers.length
}

/**
 * Apply one incremental event. Counters the event does not determine
 * (trust scores, audit entries of registrations) are left to the next
 * snapshot refresh.
 */
export function applyEvent(state: DashboardState, e: StreamEvent): void {
  const d = e.data
  switch (e.type) {
    case 'agent:registered':
      return onRegistered(state, d, e.timestamp)
    case 'agent:rotated': {
      const agent = state.agents[str(d.did)]
      if (agent) {
        agent.keySeq = typeof d.seq === 'number' ? d.seq : agent.keySeq + 1
        agent.publicKey = str(d.publicKey) || agent.publicKey
      }
      return
    }
    case 'agent:revoked':
      return onRevoked(state, d, e.timestamp)
    case 'message:signed':
    case 'message:received':
      return onMessage(state, d)
    case 'message:rejected':
      state.stats.auditEntries += 1
      return
    case 'connection:established':
      state.stats.connections += 1
      addConnectionLink(state.links, { fromDid: str(d.fromDid), toDid: str(d.toDid) })
      return
    case 'peer:connected':
    case 'peer:disconnected':
      return onPeer(state, str(d.peerId), e.type === 'peer:connected')
  }
}

/** The name of a DID's agent, or the short DID. */
export function nameOf(state: DashboardState, did: string): string {
  if (did === state.node?.did) return state.node.name
  return state.agents[did]?.name ?? shortDid(did)
}
