/**
 * The live event feed: one readable entry per stream event — messages
 * signed or received (✓ verified), every refusal with its code and the
 * sender it claimed, registrations (a renewed one is not a new agent),
 * rotations, revocations, handshakes, peers, audit checkpoints — with
 * names instead of raw DIDs, repeated events grouped with a count, and the
 * filters an operator triages with.
 */
import { cutParts, flat, line, type DetailPart } from './feed-detail.js'
import { cut, plainText, shortDid, shortId, type ShownName } from './format.js'
import type { Message, NodeEvent, StreamEvent } from './types.js'

/** Most entries the feed keeps (newest first). */
export const FEED_LIMIT = 200
/** Most characters of an entry's title and detail, and of a refusal's reason within it. */
export const TITLE_CHARS = 200
export const DETAIL_CHARS = 400
const REASON_CHARS = 200

/** How an entry is coloured. */
export type FeedTone = 'ok' | 'bad' | 'warn' | 'info'

/** What kind of event an entry is (the feed's type filter). */
export type FeedKind = 'message' | 'rejection' | 'agent' | 'handshake' | 'peer' | 'audit' | 'system'

/** The kinds, in the order the filter lists them. */
export const FEED_KINDS: readonly FeedKind[] = ['message', 'rejection', 'agent', 'handshake', 'peer', 'audit', 'system']

/** One line of the feed. */
export interface FeedEntry {
  readonly id: number
  /** ISO time the node emitted the event. */
  readonly at: string
  readonly type: string
  readonly kind: FeedKind
  readonly tone: FeedTone
  readonly title: string
  /** The detail as one line of text (searched, compared): a name's tag as ` (did:…)`. */
  readonly detail: string
  /** The detail as shown: text, and names with a tag, which the feed shows as an element of its own. */
  readonly parts: readonly DetailPart[]
  /** A short status chip: `✓ verified`, or the rejection code. */
  readonly badge?: string
  /** DIDs the entry is about (the agent filter). */
  readonly dids: readonly string[]
  /** Id of the message, for its "verify" link. */
  readonly messageId?: string
  /** How many identical events in a row this line stands for. */
  readonly count: number
}

export type { DetailPart }

/** What the feed needs to know to word an entry. */
export interface FeedContext {
  /** The display name of a DID (its agent's name when known): the state's `nameParts`. */
  nameOf(did: string): string | ShownName
  /** The display name of a libp2p peer. */
  peerNameOf(peerId: string): string
  /** True when the DID is an agent the dashboard already shows. */
  known(did: string): boolean
}

type Parts = Omit<FeedEntry, 'id' | 'at' | 'type' | 'count' | 'detail' | 'parts'> & { readonly detail: DetailPart[] }
type Shown = Omit<FeedEntry, 'id' | 'at' | 'type' | 'count'>

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v)
}

function excerpt(text: string, max = 80): string {
  return cut(text.replace(/\s+/g, ' ').trim(), max)
}

/** Parts shown as text of bounded length, with no character that reorders or hides the rest of the line. */
function shown(p: Parts): Shown {
  const parts = cutParts(p.detail, DETAIL_CHARS)
  return { ...p, title: plainText(cut(p.title, TITLE_CHARS)), detail: parts.map(flat).join(''), parts }
}

function messageParts(e: NodeEvent<'message:signed' | 'message:received'>, ctx: FeedContext): Parts {
  const d = e.data
  const to = d.to === null ? 'everyone' : ctx.nameOf(d.to)
  const dids = [d.from, ...(d.to !== null ? [d.to] : [])]
  return {
    kind: 'message',
    tone: 'ok',
    title: e.type === 'message:signed' ? 'Message signed' : 'Message received',
    detail: line`${ctx.nameOf(d.from)} → ${to}: “${excerpt(d.body)}”`,
    badge: '✓ verified',
    dids,
    messageId: d.id,
  }
}

const REFUSAL_TITLES: Record<string, string> = {
  DUPLICATE: 'Refused a duplicate',
  REPLAY: 'Refused a replay',
  REVOKED: 'Refused: sender revoked',
  SIGNATURE_INVALID: 'Rejected a forgery',
}

function rejectedParts(e: NodeEvent<'message:rejected'>, ctx: FeedContext): Parts {
  const d = e.data
  const code = str(d.code) || 'REJECTED'
  const claimed = str(d.claimed)
  const what = d.type ? `${str(d.type)} envelope` : 'envelope'
  const claim = claimed ? ctx.nameOf(claimed) : undefined
  const via = `via ${str(d.source) || 'unknown'}`
  return {
    kind: 'rejection',
    tone: 'bad',
    title: REFUSAL_TITLES[code] ?? `Rejected ${what}`,
    detail: [
      ...line`${excerpt(str(d.reason), REASON_CHARS) || 'refused'} (${via})`,
      ...(claim === undefined ? [] : line` · claimed sender ${claim}`),
    ],
    badge: `✗ ${code}`,
    dids: claimed ? [claimed] : [],
  }
}

function agentParts(e: NodeEvent<AgentEvent>, ctx: FeedContext, renewed: boolean): Parts {
  const did = e.data.did
  const base = { kind: 'agent' as const, dids: [did] }
  switch (e.type) {
    case 'agent:registered':
      return renewed
        ? { ...base, tone: 'info', title: 'Registration renewed', detail: line`${ctx.nameOf(did)} · re-signed` }
        : {
            ...base,
            tone: 'info',
            title: 'Agent registered',
            detail: line`${e.data.name || shortDid(did)} · ${shortDid(did)}`,
          }
    case 'agent:rotated':
      return { ...base, tone: 'warn', title: 'Key rotated', detail: line`${ctx.nameOf(did)} · key #${e.data.seq}` }
    default:
      return {
        ...base,
        tone: 'bad',
        title: 'Agent revoked',
        detail: line`${ctx.nameOf(did)}: ${excerpt(str(e.data.reason), REASON_CHARS) || '—'}`,
      }
  }
}

function refusedParts(e: NodeEvent<'api:refused'>, ctx: FeedContext): Parts {
  const d = e.data
  const subject = str(d.subject)
  const on = subject ? line` · ${ctx.nameOf(subject)}` : []
  return {
    kind: 'rejection',
    tone: 'bad',
    title: `Refused API call: ${d.action}`,
    detail: [...line`no authority (${d.authority})`, ...on],
    badge: `✗ ${d.code}`,
    dids: subject ? [subject] : [],
  }
}

function otherParts(e: NodeEvent, ctx: FeedContext): Parts {
  switch (e.type) {
    case 'connection:established': {
      const d = e.data
      return {
        kind: 'handshake',
        tone: 'ok',
        title: 'Handshake verified',
        detail: line`${ctx.nameOf(str(d.fromDid))} ⇄ ${ctx.nameOf(str(d.toDid))}`,
        badge: '✓ verified',
        dids: [d.fromDid, d.toDid],
      }
    }
    case 'peer:connected':
    case 'peer:disconnected': {
      const on = e.type === 'peer:connected'
      const detail = [ctx.peerNameOf(e.data.peerId)]
      return {
        kind: 'peer',
        tone: on ? 'info' : 'warn',
        title: on ? 'Peer connected' : 'Peer disconnected',
        detail,
        dids: [],
      }
    }
    case 'audit:checkpoint': {
      const d = e.data
      return {
        kind: 'audit',
        tone: 'info',
        title: 'Audit checkpoint',
        detail: line`${d.size} entries · root ${shortId(d.root, 10, 4)} · ${ctx.nameOf(d.origin)}`,
        dids: [],
      }
    }
    case 'key:duplicity': {
      const did = str(e.data.did)
      return {
        kind: 'agent',
        tone: 'bad',
        title: 'Key duplicity detected',
        detail: line`${ctx.nameOf(did)}`,
        badge: '✗ DUPLICITY',
        dids: [did],
      }
    }
    case 'api:refused':
      return refusedParts(e, ctx)
    default:
      return { kind: 'system', tone: 'info', title: e.type, detail: [], dids: [] }
  }
}

/** The events about one agent's registration and keys. */
type AgentEvent = 'agent:registered' | 'agent:rotated' | 'agent:revoked'

function isAgentEvent(e: NodeEvent): e is NodeEvent<AgentEvent> {
  return e.type === 'agent:registered' || e.type === 'agent:rotated' || e.type === 'agent:revoked'
}

function partsOf(e: NodeEvent, ctx: FeedContext): Parts {
  if (e.type === 'message:signed' || e.type === 'message:received') return messageParts(e, ctx)
  if (e.type === 'message:rejected') return rejectedParts(e, ctx)
  if (isAgentEvent(e)) return agentParts(e, ctx, ctx.known(e.data.did))
  return otherParts(e, ctx)
}

let nextId = 1

/** The feed entry of a stream event (`undefined` for the snapshot, which is state, not news). Word it before applying it. */
export function feedEntryOf(e: StreamEvent, ctx: FeedContext): FeedEntry | undefined {
  if (e.type === 'snapshot') return undefined
  return {
    id: nextId++,
    at: e.timestamp || new Date().toISOString(),
    type: e.type,
    count: 1,
    ...shown(partsOf(e, ctx)),
  }
}

/** The feed entry of a stored message loaded from the history (`GET /messages`). */
export function historyEntryOf(m: Message, ctx: FeedContext): FeedEntry {
  const e: NodeEvent<'message:signed' | 'message:received'> = {
    type: m.source === 'api' ? 'message:signed' : 'message:received',
    timestamp: m.receivedAt,
    data: { id: m.id, from: m.from, to: m.to, body: m.message, ts: m.ts, signature: m.signature, source: m.source },
  }
  return { id: nextId++, at: m.receivedAt, type: e.type, count: 1, ...shown(messageParts(e, ctx)) }
}

/** A feed entry the UI itself writes (stream connected, lost). */
export function localEntry(tone: FeedTone, title: string, detail = ''): FeedEntry {
  return {
    id: nextId++,
    at: new Date().toISOString(),
    type: 'ui',
    kind: 'system',
    tone,
    title,
    detail,
    parts: detail === '' ? [] : [detail],
    dids: [],
    count: 1,
  }
}

function sameEvent(a: FeedEntry, b: FeedEntry): boolean {
  return a.type === b.type && a.title === b.title && a.detail === b.detail && a.badge === b.badge && !a.messageId
}

/**
 * Put a batch of new entries (oldest first) on top of `feed` (newest first),
 * folding an entry equal to the one above it into a count, and keep at most
 * `limit`. Returns a new array (the feed is a shallow ref).
 */
export function pushEntries(feed: readonly FeedEntry[], batch: readonly FeedEntry[], limit = FEED_LIMIT): FeedEntry[] {
  const out = [...feed]
  for (const entry of batch) {
    const top = out[0]
    if (top !== undefined && sameEvent(top, entry)) out[0] = { ...entry, count: top.count + 1 }
    else out.unshift(entry)
  }
  if (out.length > limit) out.length = limit
  return out
}

/** The feed's filters. */
export interface FeedFilter {
  readonly rejectionsOnly: boolean
  /** A DID, or '' for every agent. */
  readonly agent: string
  /** A kind, or '' for every kind. */
  readonly kind: FeedKind | ''
  /** Case-insensitive text searched in title, detail and badge. */
  readonly search: string
}

/** The entries a filter lets through. */
export function filterFeed(feed: readonly FeedEntry[], f: FeedFilter): FeedEntry[] {
  const q = f.search.trim().toLowerCase()
  return feed.filter(
    (e) =>
      (!f.rejectionsOnly || e.kind === 'rejection') &&
      (f.agent === '' || e.dids.includes(f.agent)) &&
      (f.kind === '' || e.kind === f.kind) &&
      (q === '' || `${e.title} ${e.detail} ${e.badge ?? ''}`.toLowerCase().includes(q)),
  )
}
