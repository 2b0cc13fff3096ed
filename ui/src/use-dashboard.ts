/**
 * The dashboard's live state as a Vue composable: one event stream, the
 * snapshot it starts with, incremental events after it, a throttled
 * `GET /snapshot` refresh for the figures events do not carry (trust,
 * audit entries), the event feed, and the connection status.
 */
import { computed, onScopeDispose, reactive, ref, type ComputedRef, type Ref } from 'vue'
import { fetchSnapshot, openEventStream, type StreamStatus } from './api.js'
import { feedEntryOf, localEntry, pushEntry, type FeedEntry } from './feed.js'
import { applyEvent, applySnapshot, emptyState, nameOf, type DashboardState } from './state.js'
import type { Snapshot, StreamEvent } from './types.js'

/** Shortest gap between two snapshot refreshes (ms). */
export const REFRESH_GAP_MS = 4_000
/** Wait after an event before refreshing, to batch bursts (ms). */
export const REFRESH_DELAY_MS = 800

/** What the dashboard components read. */
export interface Dashboard {
  readonly state: DashboardState
  readonly feed: FeedEntry[]
  readonly status: Ref<StreamStatus>
  /** Set while disconnected: ms until the next attempt. */
  readonly retryInMs: Ref<number | undefined>
  /** True once the first snapshot arrived. */
  readonly ready: Ref<boolean>
  readonly uptime: ComputedRef<number>
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

function streamStatusNote(feed: FeedEntry[], status: StreamStatus, wasOpen: boolean): void {
  if (status === 'closed' && wasOpen) pushEntry(feed, localEntry('warn', 'Event stream lost', 'reconnecting…'))
}

/** Start the live dashboard state; everything stops with the calling component. */
export function useDashboard(): Dashboard {
  const state = reactive(emptyState()) as DashboardState
  const feed = reactive<FeedEntry[]>([])
  const status = ref<StreamStatus>('connecting')
  const retryInMs = ref<number | undefined>()
  const ready = ref(false)
  const now = ref(Date.now())
  const refresh = refresher((snap) => applySnapshot(state, snap))
  let reconnecting = false

  const onEvent = (e: StreamEvent): void => {
    if (e.type === 'snapshot') {
      applySnapshot(state, e.data as unknown as Snapshot)
      if (reconnecting) pushEntry(feed, localEntry('info', 'Event stream reconnected', 'state reloaded'))
      reconnecting = false
      ready.value = true
      return
    }
    const entry = feedEntryOf(e, (did) => nameOf(state, did))
    applyEvent(state, e)
    if (entry) pushEntry(feed, entry)
    refresh.request()
  }
  const stream = openEventStream({
    onEvent,
    onStatus: (s, retry) => {
      streamStatusNote(feed, s, status.value === 'open')
      if (s === 'closed') reconnecting = true
      status.value = s
      retryInMs.value = retry
    },
  })
  const ticker = setInterval(() => (now.value = Date.now()), 1000)
  onScopeDispose(() => {
    stream.close()
    refresh.stop()
    clearInterval(ticker)
  })
  const uptime = computed(() => state.uptimeBase + Math.max(0, (now.value - state.uptimeAt) / 1000))
  return { state, feed, status, retryInMs, ready, uptime }
}
