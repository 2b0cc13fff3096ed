/**
 * Dashboard state: built from the stream's `snapshot` and the message
 * history per pair (`GET /history/links`), then kept current by applying
 * incremental events. Pure functions over a plain object: the composable
 * applies a whole batch of events and then tells Vue once (no deep
 * watchers over hundreds of agents).
 */
import { agentNameParts, noteAgent } from './agent-names.js'
import { nameFlat, nameLines, plainText, shortDid, shortId, type ShownName } from './format.js'
import type {
  Agent,
  Capability,
  Connection,
  EventData,
  LinkHistory,
  NodeInfo,
  Snapshot,
  Stats,
  StreamEvent,
} from './types.js'

/** Messages from one agent to another: how many, and the signed time of the latest (ms). */
export interface Pair {
  readonly from: string
  readonly to: string
  count: number
  lastTs: number
}

/** Everything the dashboard shows. */
export interface DashboardState {
  node: NodeInfo | null
  /** Node uptime (s) at `uptimeAt` (ms, this browser's clock). */
  uptimeBase: number
  uptimeAt: number
  stats: Stats
  agents: Record<string, Agent>
  /** Message pairs by `from>to`. */
  pairs: Record<string, Pair>
  /** Verified handshakes by unordered pair `a<>b`. */
  handshakes: Record<string, { readonly a: string; readonly b: string }>
  peers: string[]
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
  return {
    node: null,
    uptimeBase: 0,
    uptimeAt: 0,
    stats: emptyStats(),
    agents: {},
    pairs: {},
    handshakes: {},
    peers: [],
  }
}

/** Key of the pair `from → to`. */
export function pairKey(from: string, to: string): string {
  return `${from}>${to}`
}

function handshakeKey(a: string, b: string): string {
  return a < b ? `${a}<>${b}` : `${b}<>${a}`
}

function addMessage(state: DashboardState, from: string, to: string | null, ts: number): void {
  if (to === null || to === from) return
  const key = pairKey(from, to)
  const pair = state.pairs[key]
  if (pair) {
    pair.count += 1
    pair.lastTs = Math.max(pair.lastTs, ts)
  } else state.pairs[key] = { from, to, count: 1, lastTs: ts }
}

function addHandshake(state: DashboardState, c: Pick<Connection, 'fromDid' | 'toDid'>): void {
  state.handshakes[handshakeKey(c.fromDid, c.toDid)] = { a: c.fromDid, b: c.toDid }
}

/**
 * Take a snapshot: its page of agents updates or adds those agents and removes
 * none (a page holds only some of them; ui/src/agent-sync.ts removes the ones
 * the registry no longer holds); its handshakes are added (a page holds only
 * the newest, and none is ever undone); counters and peers are replaced
 * (message pairs come from history).
 */
export function applySnapshot(state: DashboardState, snap: Snapshot, now: number = Date.now()): void {
  state.node = snap.node
  state.uptimeBase = snap.node.uptime
  state.uptimeAt = now
  state.stats = { ...emptyStats(), ...snap.stats }
  for (const a of snap.agents) {
    state.agents[a.did] = a
    noteAgent(state, a.did)
  }
  // a snapshot holds a page of the handshakes, and no handshake is ever undone: its page adds to what the page knew
  for (const c of snap.connections) addHandshake(state, c)
  state.peers = snap.peers.map((p) => p.peerId)
}

/** Replace the message pairs with the node's history (`GET /history/links`). */
export function applyLinkHistory(state: DashboardState, history: LinkHistory): void {
  const pairs: Record<string, Pair> = {}
  for (const l of history.links) pairs[pairKey(l.from, l.to)] = { ...l }
  state.pairs = pairs
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : ''
}

function capabilitiesOf(v: unknown): Capability[] {
  if (!Array.isArray(v)) return []
  return v.filter((c): c is Capability => typeof c === 'object' && c !== null && typeof c.type === 'string')
}

function onRegistered(state: DashboardState, d: EventData['agent:registered'], at: string): void {
  const did = str(d.did)
  const known = state.agents[did]
  if (did === '') return
  if (known) {
    // a renewed registration (after a rotation, or an update): same agent, maybe new name or capabilities
    known.name = str(d.name) || known.name
    known.capabilities = capabilitiesOf(d.capabilities)
    return noteAgent(state, did)
  }
  const controller = str(d.controller)
  // local only when it came through this node: a peer's agent may name this node as its controller
  const local = controller === state.node?.did && (d.source === 'api' || d.source === 'local')
  state.agents[did] = {
    did,
    publicKey: '',
    name: str(d.name) || did,
    capabilities: capabilitiesOf(d.capabilities),
    status: 'active',
    keySeq: 0,
    trustScore: 0.5,
    interactionsTotal: 0,
    interactionsSuccess: 0,
    online: local,
    origin: local ? 'local' : 'remote',
    originServer: controller,
    createdAt: at,
  }
  noteAgent(state, did)
  state.stats.agents += 1
  state.stats.active += 1
  if (local) state.stats.localAgents += 1
  else state.stats.remoteAgents += 1
}

function onRevoked(state: DashboardState, d: EventData['agent:revoked'], at: string): void {
  const agent = state.agents[str(d.did)]
  if (agent === undefined || agent.status === 'revoked') return
  agent.status = 'revoked'
  agent.online = false
  agent.revokedAt = at
  agent.revocationReason = str(d.reason)
  state.stats.active -= 1
  state.stats.revoked += 1
}

function onMessage(state: DashboardState, d: EventData['message:signed'], at: string): void {
  const from = str(d.from)
  const to = typeof d.to === 'string' ? d.to : null
  state.stats.messages += 1
  state.stats.auditEntries += 1
  for (const did of to === from ? [from] : [from, to]) {
    const agent = did === null ? undefined : state.agents[did]
    if (agent) {
      agent.interactionsTotal += 1
      agent.interactionsSuccess += 1
      agent.lastSeenAt = at
    }
  }
  addMessage(state, from, to, typeof d.ts === 'number' ? d.ts : Date.parse(at))
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
  switch (e.type) {
    case 'agent:registered':
      return onRegistered(state, e.data, e.timestamp)
    case 'agent:rotated': {
      const d = e.data
      const agent = state.agents[str(d.did)]
      if (agent) {
        agent.keySeq = typeof d.seq === 'number' ? d.seq : agent.keySeq + 1
        agent.publicKey = str(d.publicKey) || agent.publicKey
      }
      return
    }
    case 'agent:revoked':
      return onRevoked(state, e.data, e.timestamp)
    case 'message:signed':
    case 'message:received':
      return onMessage(state, e.data, e.timestamp)
    case 'message:rejected':
      state.stats.auditEntries += 1
      return
    case 'connection:established':
      state.stats.connections += 1
      addHandshake(state, { fromDid: e.data.fromDid, toDid: e.data.toDid })
      return
    case 'peer:connected':
    case 'peer:disconnected':
      return onPeer(state, e.data.peerId, e.type === 'peer:connected')
  }
}

/**
 * The name of a DID's agent (or this node's name), or the short DID; as plain
 * text, told apart by a tag of its own (agent-names.ts): HTML shows the tag as
 * an element (`AgentName.vue`).
 */
export function nameParts(state: DashboardState, did: string): ShownName {
  if (did === state.node?.did) return { name: plainText(state.node.name) }
  const name = state.agents[did]?.name
  return name === undefined ? { name: shortDid(did) } : agentNameParts(state, did, name)
}

/** `nameParts` as one text, the tag on a line of its own (`nameLines`): canvas labels, tooltips, `<option>`. */
export function nameOf(state: DashboardState, did: string): string {
  return nameLines(nameParts(state, did))
}

/** A peer by what this node knows of it: the node hosting some agents, else its short PeerId. */
export function peerNameOf(state: DashboardState, peerId: string): string {
  const hosted = Object.values(state.agents).filter((a) => a.peerId === peerId)
  const first = hosted[0]
  if (first === undefined) return shortId(peerId, 12, 6)
  const more = hosted.length > 1 ? ` +${hosted.length - 1}` : ''
  return `node of ${nameFlat(nameParts(state, first.did))}${more} (${shortId(peerId, 8, 4)})`
}
