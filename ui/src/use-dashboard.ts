/**
 * The dashboard's live state as a Vue composable: one event stream, the
 * snapshot it starts with, the message history per pair, incremental events
 * after it — queued and applied in batches every `BATCH_MS`, each batch
 * telling Vue once through version counters (no deep watchers) — a
 * throttled `GET /snapshot` refresh for the figures events do not carry
 * (trust, audit entries), the event feed, and the connection status.
 */
import { computed, onScopeDispose, ref, shallowRef, type ComputedRef, type Ref, type ShallowRef } from 'vue'
import { fetchLinks, fetchRegistry, fetchSnapshot, openEventStream, type StreamStatus } from './api.js'
import { feedEntryOf, localEntry, pushEntries, type FeedContext, type FeedEntry } from './feed.js'
import { beginAgentSync, completeAgentSync, refreshAgents, type AgentSync } from './agent-sync.js'
import { applyEvent, applyLinkHistory, emptyState, nameParts, peerNameOf, type DashboardState } from './state.js'
import type { Snapshot, Stats, StreamEvent } from './types.js'

/** Shortest gap between two snapshot refreshes (ms). */
export const REFRESH_GAP_MS = 4_000
/** Wait after an event before refreshing, to batch bursts (ms). */
export const REFRESH_DELAY_MS = 800
/** Stream events are applied in batches this far apart (ms). */
export const BATCH_MS = 250

/** Something to do with each applied batch of events (the graph's particles, the sound). */
export type BatchListener = (events: readonly StreamEvent[]) => void

/** What the dashboard components read. */
export interface Dashboard {
  /** Plain state: read it through `agentsVersion` / `linksVersion` in computeds. */
  readonly state: DashboardState
  /** Bumped when agents change (added, revoked, trust, interactions). */
  readonly agentsVersion: Ref<number>
  /** Bumped when message pairs or handshakes change. */
  readonly linksVersion: Ref<number>
  readonly stats: ShallowRef<Stats>
  readonly feed: ShallowRef<FeedEntry[]>
  readonly status: Ref<StreamStatus>
  /** Set while disconnected: ms until the next attempt. */
  readonly retryInMs: Ref<number | undefined>
  /** True once the first snapshot arrived. */
  readonly ready: Ref<boolean>
  readonly uptime: ComputedRef<number>
  /** Largest delay between an event's emission and its display in the last batch (ms). */
  readonly lagMs: Ref<number>
  /** Stream events applied so far. */
  readonly applied: Ref<number>
  /** Call `fn` with every applied batch; returns a function that stops it. */
  onBatch(fn: BatchListener): () => void
  /** Add entries (history) at the end of the feed. */
  appendHistory(entries: readonly FeedEntry[]): void
  /** How the feed words things. */
  readonly feedContext: FeedContext
}

/** A throttled refresh: at most one `GET /snapshot` in flight, at least `REFRESH_GAP_MS` apart. */
function refresher(apply: (snap: Snapshot) => void): { request(): void; stop(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined
  let running = false
  let again = false
  let last = 0
  const run = async (): Promise<void> => {
    timer = undefined
    running = true
    again = false
    last = Date.now()
    try {
      apply(await fetchSnapshot())
    } catch {
      // The stream status already tells the user when the node is gone.
    } finally {
      running = false
      if (again) request()
    }
  }
  const request = (): void => {
    if (running) {
      again = true
      return
    }
    if (timer !== undefined) return
    timer = setTimeout(() => void run(), Math.max(REFRESH_DELAY_MS, last + REFRESH_GAP_MS - Date.now()))
  }
  return { request, stop: () => timer !== undefined && clearTimeout(timer) }
}

const AGENT_EVENTS = new Set([
  'agent:registered',
  'agent:rotated',
  'agent:revoked',
  'message:signed',
  'message:received',
])
const LINK_EVENTS = new Set(['message:signed', 'message:received', 'connection:established'])

/** The reactive handles a batch updates. */
interface Live {
  readonly state: DashboardState
  readonly agentsVersion: Ref<number>
  readonly linksVersion: Ref<number>
  readonly stats: ShallowRef<Stats>
  readonly feed: ShallowRef<FeedEntry[]>
  readonly lagMs: Ref<number>
  readonly applied: Ref<number>
  readonly listeners: Set<BatchListener>
  readonly feedContext: FeedContext
  /** The agents of the current stream connection (none before its first snapshot). */
  sync?: AgentSync
}

function newLive(): Live {
  const state = emptyState()
  return {
    state,
    agentsVersion: ref(0),
    linksVersion: ref(0),
    stats: shallowRef(state.stats),
    feed: shallowRef<FeedEntry[]>([]),
    lagMs: ref(0),
    applied: ref(0),
    listeners: new Set(),
    feedContext: {
      nameOf: (did) => nameParts(state, did),
      peerNameOf: (peerId) => peerNameOf(state, peerId),
      known: (did) => state.agents[did] !== undefined,
    },
  }
}

function touchAll(live: Live): void {
  live.stats.value = { ...live.state.stats }
  live.agentsVersion.value++
  live.linksVersion.value++
}

/**
 * A connection's first snapshot; when it holds only a page of the agents, the
 * registry is read (`GET /agents`: this node's agents and the newest others,
 * api.ts `fetchRegistry`), once for this connection: refreshes
 * update the agents of their page and the counters (ui/src/agent-sync.ts).
 */
function beginConnection(live: Live, snap: Snapshot): void {
  const sync = beginAgentSync(live.state, snap)
  live.sync = sync
  touchAll(live)
  if (sync.complete) return
  void fetchRegistry()
    .then((agents) => {
      if (live.sync !== sync) return // a newer connection reads the registry itself
      completeAgentSync(live.state, sync, agents)
      touchAll(live)
    })
    .catch(() => undefined) // the next connection reads it again; refreshes go on meanwhile
}

function takeRefresh(live: Live, snap: Snapshot): void {
  refreshAgents(live.state, live.sync, snap)
  touchAll(live)
}

async function loadLinks(live: Live): Promise<void> {
  try {
    applyLinkHistory(live.state, await fetchLinks())
    live.linksVersion.value++
  } catch {
    // shown as soon as the stream is back
  }
}

/** Apply a batch of events: state, feed (each worded before it is applied), then one update per view. */
function applyBatch(live: Live, batch: readonly StreamEvent[]): void {
  const entries: FeedEntry[] = []
  let agents = false
  let links = false
  let lag = 0
  const at = Date.now()
  for (const e of batch) {
    const entry = feedEntryOf(e, live.feedContext)
    applyEvent(live.state, e)
    if (entry) entries.push(entry)
    agents ||= AGENT_EVENTS.has(e.type)
    links ||= LINK_EVENTS.has(e.type)
    const t = Date.parse(e.timestamp)
    if (Number.isFinite(t)) lag = Math.max(lag, at - t)
  }
  live.feed.value = pushEntries(live.feed.value, entries)
  live.stats.value = { ...live.state.stats }
  if (agents) live.agentsVersion.value++
  if (links) live.linksVersion.value++
  live.lagMs.value = lag
  live.applied.value += batch.length
  for (const fn of live.listeners) fn(batch)
}

function note(live: Live, tone: 'info' | 'warn', title: string, detail: string): void {
  live.feed.value = pushEntries(live.feed.value, [localEntry(tone, title, detail)])
}

/** Start the live dashboard state; everything stops with the calling component. */
export function useDashboard(): Dashboard {
  const live = newLive()
  const status = ref<StreamStatus>('connecting')
  const retryInMs = ref<number | undefined>()
  const ready = ref(false)
  const clock = uptimeClock(live)
  const refresh = refresher((snap) => takeRefresh(live, snap))
  let queue: StreamEvent[] = []
  let timer: ReturnType<typeof setTimeout> | undefined
  let reconnecting = false
  const flush = (): void => {
    timer = undefined
    const batch = queue
    queue = []
    applyBatch(live, batch)
    refresh.request()
  }
  const onSnapshot = (snap: Snapshot): void => {
    if (timer !== undefined) clearTimeout(timer)
    if (queue.length > 0) flush()
    else timer = undefined
    beginConnection(live, snap)
    void loadLinks(live)
    if (reconnecting) note(live, 'info', 'Event stream reconnected', 'state reloaded')
    reconnecting = false
    ready.value = true
  }
  const stream = openEventStream({
    onEvent: (e) => {
      if (e.type === 'snapshot') return onSnapshot(e.data as unknown as Snapshot)
      queue.push(e)
      timer ??= setTimeout(flush, BATCH_MS)
    },
    onStatus: (s, retry) => {
      if (s === 'closed' && status.value === 'open') note(live, 'warn', 'Event stream lost', 'reconnecting…')
      // refused before it opened (the rate limit, or no free slot: docs/api.md) or the node is down: the state
      // is read over HTTP meanwhile, whose 429 also tells the rate-limit banner (a browser never sees the
      // upgrade's status)
      if (s === 'closed' && status.value === 'connecting') refresh.request()
      if (s === 'closed') reconnecting = true
      status.value = s
      retryInMs.value = retry
    },
  })
  onScopeDispose(() => {
    stream.close()
    refresh.stop()
    clock.stop()
    if (timer !== undefined) clearTimeout(timer)
  })
  // state is plain: read a version so a new snapshot recomputes at once
  const uptime = clock.uptime
  return {
    ...live,
    status,
    retryInMs,
    ready,
    uptime,
    onBatch: (fn) => subscribe(live, fn),
    appendHistory: (e) => appendHistory(live, e),
  }
}

function subscribe(live: Live, fn: BatchListener): () => void {
  live.listeners.add(fn)
  return () => live.listeners.delete(fn)
}

function appendHistory(live: Live, entries: readonly FeedEntry[]): void {
  const seen = new Set(live.feed.value.map((e) => e.messageId).filter(Boolean))
  live.feed.value = [...live.feed.value, ...entries.filter((e) => !seen.has(e.messageId))]
}

/** The node's uptime, ticking every second; state is plain, so it also follows each new snapshot. */
function uptimeClock(live: Live): { uptime: ComputedRef<number>; stop(): void } {
  const now = ref(Date.now())
  const ticker = setInterval(() => (now.value = Date.now()), 1000)
  const uptime = computed(() => {
    void live.stats.value
    return live.state.uptimeBase + Math.max(0, (now.value - live.state.uptimeAt) / 1000)
  })
  return { uptime, stop: () => clearInterval(ticker) }
}
