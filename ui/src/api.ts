/**
 * The only place the UI talks to the node: `fetch` on same-origin relative
 * URLs and one WebSocket to the same host. No bearer, no cookie and no other
 * origin; at most the session of a dashboard pass (`redeemDashboardPass`).
 */
import { ref } from 'vue'
import { mergeRegistryReads, REGISTRY_READS } from './agent-sync.js'
import type {
  Agent,
  AgentDetail,
  AgentHistory,
  ConnectionPage,
  EnvelopeVerification,
  Health,
  InclusionProof,
  LinkHistory,
  MessagePage,
  RateHistory,
  Snapshot,
  StoredMessage,
  StreamEvent,
  Verification,
  VerifyRequest,
} from './types.js'

/** A failed API call: the node's `{error, code}`, or `UNREACHABLE` when no answer came. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

async function errorOf(res: Response): Promise<ApiError> {
  try {
    const body = (await res.json()) as { error?: unknown; code?: unknown }
    const code = typeof body.code === 'string' ? body.code : `HTTP_${res.status}`
    const message = typeof body.error === 'string' ? body.error : res.statusText
    return new ApiError(code, message, res.status)
  } catch {
    return new ApiError(`HTTP_${res.status}`, res.statusText || 'unexpected answer', res.status)
  }
}

/**
 * Until when (ms since the epoch) the node answers this page 429: its rate
 * limit counts every anonymous local client as one, so other programs can
 * spend this page's budget (docs/dashboard.md). Undefined when not limited.
 */
export const rateLimitedUntil = ref<number>()

/** Why the dashboard pass of this page's URL was refused (spent, expired, another node's), if it was. */
export const passRefused = ref<string>()

const PASS_HASH = /^#pass=([A-Za-z0-9_-]{43})$/
/** Where this tab keeps its dashboard session (this origin's, this tab's only: never a cookie, docs/dashboard.md). */
const SESSION_KEY = 'meshsig-view-session'
const SESSION_SHAPE = /^[A-Za-z0-9_-]{43}$/

/** This tab's dashboard session, if it redeemed a pass. */
function viewSession(): string | undefined {
  try {
    const s = window.sessionStorage.getItem(SESSION_KEY)
    return s !== null && SESSION_SHAPE.test(s) ? s : undefined
  } catch {
    return undefined
  }
}

/** The header that puts a request in this tab's lane, when it has one. */
function viewHeaders(): Record<string, string> {
  const s = viewSession()
  return s === undefined ? {} : { 'x-meshsig-view': s }
}

/**
 * Redeem the one-time pass of the URL (`meshsig dashboard`; docs/dashboard.md):
 * the node answers a session secret that gives this page a rate-limit bucket
 * and stream slots of its own; the tab keeps it in its `sessionStorage` and
 * sends it as a header. The pass leaves the address bar and history first.
 * Call before any other request.
 */
export async function redeemDashboardPass(): Promise<void> {
  const m = PASS_HASH.exec(window.location.hash)
  if (m === null) return
  window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search)
  try {
    const res = await fetch('/dashboard/session', {
      method: 'POST',
      credentials: 'omit',
      cache: 'no-store',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pass: m[1] }),
    })
    if (!res.ok) {
      passRefused.value = (await errorOf(res)).message
      return
    }
    const { session } = (await res.json()) as { session?: unknown }
    if (typeof session === 'string' && SESSION_SHAPE.test(session)) window.sessionStorage.setItem(SESSION_KEY, session)
  } catch {
    passRefused.value = 'the node did not answer'
  }
}

async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  let res: Response
  try {
    const headers = { ...viewHeaders(), ...(init.headers as Record<string, string> | undefined) }
    res = await fetch(path, { credentials: 'same-origin', cache: 'no-store', ...init, headers })
  } catch {
    throw new ApiError('UNREACHABLE', 'the node did not answer', 0)
  }
  if (res.status === 429) rateLimitedUntil.value = Date.now() + (Number(res.headers.get('retry-after')) || 60) * 1000
  if (!res.ok) throw await errorOf(res)
  return (await res.json()) as T
}

/** `GET /snapshot`: the whole network state. */
export function fetchSnapshot(): Promise<Snapshot> {
  return request<Snapshot>('/snapshot?limit=1000', { headers: { accept: 'application/json' } })
}

/** `GET /agents`: every agent (a bounded snapshot holds only a page of them). */
/**
 * The registry as the page holds it (docs/dashboard.md, `agent-sync.ts`
 * `REGISTRY_READS`): this node's own agents and the newest others, a bounded
 * page of each, not the whole registry.
 */
export async function fetchRegistry(): Promise<Agent[]> {
  const [local, newest] = await Promise.all(
    REGISTRY_READS.map((path) => request<{ agents: Agent[] }>(path, { headers: { accept: 'application/json' } })),
  )
  return mergeRegistryReads(local?.agents ?? [], newest?.agents ?? [])
}

function getJson<T>(path: string): Promise<T> {
  return request<T>(path, { headers: { accept: 'application/json' } })
}

function postJson<T>(path: string, body: unknown): Promise<T> {
  return request<T>(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  })
}

/** `GET /health`: the node's name, DID and whether it trusts loopback callers. */
export function fetchHealth(): Promise<Health> {
  return getJson<Health>('/health')
}

/** `GET /history/links`: message counts and last seen per pair of agents. */
export function fetchLinks(): Promise<LinkHistory> {
  return getJson<LinkHistory>('/history/links')
}

/** `GET /history/rates`: verified and rejected per minute, average trust, last hour. */
export function fetchRates(): Promise<RateHistory> {
  return getJson<RateHistory>('/history/rates')
}

/** `GET /agents/:did`: one agent with its duplicity evidence. */
export function fetchAgent(did: string): Promise<AgentDetail> {
  return getJson<AgentDetail>(`/agents/${encodeURIComponent(did)}`)
}

/** `GET /history/agents/:did`: key events with times and trust samples. */
export function fetchAgentHistory(did: string): Promise<AgentHistory> {
  return getJson<AgentHistory>(`/history/agents/${encodeURIComponent(did)}`)
}

/** `GET /messages`: newest first, optionally of one DID and before a `seq`. */
export function fetchMessages(q: { did?: string; before?: number; limit?: number } = {}): Promise<MessagePage> {
  const params = new URLSearchParams()
  if (q.did !== undefined) params.set('did', q.did)
  if (q.before !== undefined) params.set('before', String(q.before))
  params.set('limit', String(q.limit ?? 50))
  return getJson<MessagePage>(`/messages?${params.toString()}`)
}

/** `GET /connections`: verified handshakes, newest first. */
export function fetchConnections(limit = 200): Promise<ConnectionPage> {
  return getJson<ConnectionPage>(`/connections?limit=${limit}`)
}

/** `GET /messages/:id`: one stored message and its audit index. */
export function fetchMessage(id: string): Promise<StoredMessage> {
  return getJson<StoredMessage>(`/messages/${encodeURIComponent(id)}`)
}

/** `POST /messages/verify` with a whole envelope: the acceptance rules, nothing stored. */
export function verifyEnvelope(envelope: unknown): Promise<EnvelopeVerification> {
  return postJson<EnvelopeVerification>('/messages/verify', { envelope })
}

/** `GET /audit/proof/:index`: the RFC 9162 inclusion proof of one audit entry. */
export function fetchProof(index: number): Promise<InclusionProof> {
  return getJson<InclusionProof>(`/audit/proof/${index}`)
}

/** `POST /verify`: check a plain signature. Throws `ApiError` for malformed input. */
export function verifySignature(body: VerifyRequest): Promise<Verification> {
  return postJson<Verification>('/verify', body)
}

/** State of the event stream connection. */
export type StreamStatus = 'connecting' | 'open' | 'closed'

/** Callbacks of `openEventStream`. */
export interface StreamHandlers {
  onEvent(event: StreamEvent): void
  /** `retryInMs` is set when the stream is closed and a reconnect is scheduled. */
  onStatus(status: StreamStatus, retryInMs?: number): void
}

/** A live stream; `close` stops it for good. */
export interface EventStreamHandle {
  close(): void
}

/** Reconnect delays: 0.5 s doubling up to 15 s, with ±20 % jitter. */
export function backoffDelay(attempt: number): number {
  const base = Math.min(15_000, 500 * 2 ** Math.max(0, attempt))
  return Math.round(base * (0.8 + Math.random() * 0.4))
}

/** The stream URL of the page's own host: `ws://host/` or `wss://host/`. */
export function streamUrl(loc: Location = window.location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/`
}

function parseEvent(data: unknown): StreamEvent | undefined {
  if (typeof data !== 'string') return undefined
  try {
    const e = JSON.parse(data) as Partial<StreamEvent>
    if (typeof e.type !== 'string' || typeof e.data !== 'object' || e.data === null) return undefined
    // the node's stream (api/types.ts ApiStreamEvent): `data` as the event's type declares it
    return { ...e, timestamp: typeof e.timestamp === 'string' ? e.timestamp : '' } as StreamEvent
  } catch {
    return undefined
  }
}

/**
 * Open the node's event stream and keep it open: the first event of every
 * connection is a `snapshot`; after a drop it reconnects with backoff.
 */
export function openEventStream(handlers: StreamHandlers, url: string = streamUrl()): EventStreamHandle {
  let socket: WebSocket | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  let attempt = 0
  let stopped = false

  const connect = (): void => {
    handlers.onStatus('connecting')
    // this tab's lane rides as a second subprotocol; the node answers the first (docs/dashboard.md)
    const session = viewSession()
    const ws =
      session === undefined ? new WebSocket(url) : new WebSocket(url, ['meshsig.v1', `meshsig-view.${session}`])
    socket = ws
    ws.onopen = () => {
      attempt = 0
      handlers.onStatus('open')
    }
    ws.onmessage = (m: MessageEvent) => {
      const event = parseEvent(m.data)
      if (event !== undefined) handlers.onEvent(event)
    }
    ws.onclose = () => {
      if (stopped || socket !== ws) return
      const delay = backoffDelay(attempt++)
      handlers.onStatus('closed', delay)
      timer = setTimeout(connect, delay)
    }
  }
  connect()
  return {
    close: () => {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
      socket?.close()
    },
  }
}
