/**
 * The dashboard's own lane (docs/dashboard.md, "A lane of its own"; decision
 * 0050). A browser sends no bearer on a WebSocket, so the dashboard was an
 * anonymous client: its API calls shared the one bucket of every anonymous
 * loopback caller, and its stream the slots open to anyone, so any local
 * user could spend the one and fill the other and leave the operator's page
 * without data. The operator (the token, through `meshsig dashboard`) asks
 * for a one-time pass; the page redeems it for a session secret it keeps in
 * its own `sessionStorage` and sends as a header (`X-Meshsig-View`), and on
 * its WebSocket as a subprotocol (`meshsig-view.<secret>`). Not a cookie: a
 * page on another loopback port is the same site, and cookies ignore ports,
 * so such a page could spend a cookie's lane (`<img>` requests) or replace
 * it. Requests that carry a live session count against a bucket of their
 * own, and its stream may take the slots kept for the operator. A session
 * grants nothing else: every read the dashboard makes is open to anyone, and
 * no action takes a session as proof.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

/** How long a pass may wait to be redeemed (ms). */
export const PASS_TTL_MS = 2 * 60_000
/** How long a session lives after its last request (ms). */
export const SESSION_IDLE_MS = 24 * 60 * 60_000
/** Passes waiting at most (the oldest is dropped). */
export const MAX_PASSES = 16
/** Sessions live at most (the one used least recently is dropped). */
export const MAX_SESSIONS = 32

const SECRET = /^[A-Za-z0-9_-]{43}$/

/** A pass as `POST /dashboard/pass` answers it. */
export interface DashboardPass {
  /** One-time secret: the page redeems it at `POST /dashboard/session` (from the URL's `#pass=`). */
  readonly pass: string
  /** When it can no longer be redeemed (ms since the epoch). */
  readonly expiresAt: number
}

const digest = (secret: string): string => createHash('sha256').update(secret).digest('base64url')

/** Request header carrying a dashboard session (HTTP). */
export const VIEW_HEADER = 'x-meshsig-view'
/** WebSocket subprotocol the dashboard's stream selects; the session rides as a second one. */
export const STREAM_PROTOCOL = 'meshsig.v1'
/** Prefix of the subprotocol carrying a dashboard session on the stream's upgrade. */
export const VIEW_PROTOCOL_PREFIX = 'meshsig-view.'

/** The session secret `req` carries: its `X-Meshsig-View` header, or an upgrade's `meshsig-view.` subprotocol. */
function secretOf(req: IncomingMessage): string | undefined {
  const header = req.headers[VIEW_HEADER]
  if (typeof header === 'string') return SECRET.test(header) ? header : undefined
  const protocols = req.headers['sec-websocket-protocol']
  if (typeof protocols !== 'string') return undefined
  for (const p of protocols.split(',')) {
    const value = p.trim()
    if (value.startsWith(VIEW_PROTOCOL_PREFIX)) {
      const secret = value.slice(VIEW_PROTOCOL_PREFIX.length)
      return SECRET.test(secret) ? secret : undefined
    }
  }
  return undefined
}

/** Passes and sessions of one API, in memory (a restart ends them all), keyed by SHA-256. */
export class DashboardSessions {
  readonly #passes = new Map<string, number>()
  readonly #sessions = new Map<string, number>()

  constructor(private readonly clock: () => number = Date.now) {}

  /** A new one-time pass (the operator's request). */
  issue(): DashboardPass {
    const now = this.clock()
    this.#drop(this.#passes, now)
    while (this.#passes.size >= MAX_PASSES) this.#passes.delete(this.#passes.keys().next().value!)
    const pass = randomBytes(32).toString('base64url')
    this.#passes.set(digest(pass), now + PASS_TTL_MS)
    return { pass, expiresAt: now + PASS_TTL_MS }
  }

  /** A session secret for a live pass, which is spent; undefined for any other text. */
  redeem(pass: unknown): string | undefined {
    if (typeof pass !== 'string' || !SECRET.test(pass)) return undefined
    const now = this.clock()
    const key = digest(pass)
    const expires = this.#passes.get(key)
    this.#passes.delete(key)
    if (expires === undefined || expires <= now) return undefined
    this.#drop(this.#sessions, now)
    while (this.#sessions.size >= MAX_SESSIONS) this.#sessions.delete(this.#sessions.keys().next().value!)
    const session = randomBytes(32).toString('base64url')
    this.#sessions.set(digest(session), now + SESSION_IDLE_MS)
    return session
  }

  /** The key of the live session `req` carries (`secretOf`), renewed; undefined when it carries none. */
  sessionOf(req: IncomingMessage): string | undefined {
    const secret = secretOf(req)
    if (secret === undefined) return undefined
    const key = digest(secret)
    const now = this.clock()
    const expires = this.#sessions.get(key)
    if (expires === undefined) return undefined
    this.#sessions.delete(key)
    if (expires <= now) return undefined
    this.#sessions.set(key, now + SESSION_IDLE_MS) // most recently used last
    return key
  }

  #drop(map: Map<string, number>, now: number): void {
    for (const [key, expires] of map) if (expires <= now) map.delete(key)
  }
}
