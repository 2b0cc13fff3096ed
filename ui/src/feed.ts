/**
 * The live event feed: one readable entry per stream event — messages
 * signed or received (✓ verified), rejections with their code, agent
 * registrations, rotations and revocations, peers, audit checkpoints.
 */
import { shortDid, shortId } from './format.js'
import type { StreamEvent } from './types.js'

/** Most entries the feed keeps (newest first). */
export const FEED_LIMIT = 200

/** How an entry is coloured. */
export type FeedTone = 'ok' | 'bad' | 'warn' | 'info'

/** One line of the feed. */
export interface FeedEntry {
  readonly id: number
  /** ISO time the node emitted the event. */
  readonly at: string
  readonly type: string
  readonly tone: FeedTone
  readonly title: string
  readonly detail: string
  /** A short status chip: `✓ verified`, or the rejection code. */
  readonly badge?: string
}

/** The display name of a DID (its agent's name when known). */
export type NameOf = (did: string) => string

type Parts = Omit<FeedEntry, 'id' | 'at' | 'type'>

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v)
}

function excerpt(text: string, max = 80): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}

function messageParts(e: StreamEvent, nameOf: NameOf): Parts {
  const d = e.data
  const to = d.to === null || d.to === undefined ? 'everyone' : nameOf(str(d.to))
  const signed = e.type === 'message:signed'
  return {
    tone: 'ok',
    title: signed ? 'Message signed' : 'Message received',
    detail: `${nameOf(str(d.from))} → ${to}: “${excerpt(str(d.body))}”`,
    badge: '✓ verified',
  }
}

function rejectedParts(e: StreamEvent, nameOf: NameOf): Parts {
  const d = e.data
  const who = d.attributableTo ? ` · from ${nameOf(str(d.attributableTo))}` : ''
  const what = d.type ? `${str(d.type)} envelope` : 'envelope'
  return {
    tone: 'bad',
    title: `Rejected ${what}`,
    detail: `${str(d.reason) || 'refused'} (via ${str(d.source) || 'unknown'})${who}`,
    badge: `✗ ${str(d.code) || 'REJECTED'}`,
  }
}

function agentParts(e: StreamEvent, nameOf: NameOf): Parts {
  const d = e.data
  const did = str(d.did)
  switch (e.type) {
    case 'agent:registered':
      return { tone: 'info', title: 'Agent registered', detail: `${str(d.name) || shortDid(did)} · ${shortDid(did)}` }
    case 'agent:rotated':
      return { tone: 'warn', title: 'Key rotated', detail: `${nameOf(did)} · key #${str(d.seq)}` }
    default:
      return { tone: 'bad', title: 'Agent revoked', detail: `${nameOf(did)}: ${str(d.reason) || 'no reason given'}` }
  }
}

function otherParts(e: StreamEvent, nameOf: NameOf): Parts {
  const d = e.data
  switch (e.type) {
    case 'connection:established':
      return {
        tone: 'ok',
        title: 'Handshake verified',
        detail: `${nameOf(str(d.fromDid))} ⇄ ${nameOf(str(d.toDid))}`,
        badge: '✓ verified',
      }
    case 'peer:connected':
      return { tone: 'info', title: 'Peer connected', detail: shortId(str(d.peerId), 12, 6) }
    case 'peer:disconnected':
      return { tone: 'warn', title: 'Peer disconnected', detail: shortId(str(d.peerId), 12, 6) }
    case 'audit:checkpoint':
      return {
        tone: 'info',
        title: 'Audit checkpoint',
        detail: `${str(d.size)} entries · root ${shortId(str(d.root), 10, 4)} · ${nameOf(str(d.origin))}`,
      }
    case 'key:duplicity':
      return { tone: 'bad', title: 'Key duplicity detected', detail: nameOf(str(d.did)), badge: '✗ DUPLICITY' }
    default:
      return { tone: 'info', title: e.type, detail: '' }
  }
}

function partsOf(e: StreamEvent, nameOf: NameOf): Parts {
  if (e.type === 'message:signed' || e.type === 'message:received') return messageParts(e, nameOf)
  if (e.type === 'message:rejected') return rejectedParts(e, nameOf)
  if (e.type.startsWith('agent:')) return agentParts(e, nameOf)
  return otherParts(e, nameOf)
}

let nextId = 1

/** The feed entry of a stream event (`undefined` for the snapshot, which is state, not news). */
export function feedEntryOf(e: StreamEvent, nameOf: NameOf): FeedEntry | undefined {
  if (e.type === 'snapshot') return undefined
  return { id: nextId++, at: e.timestamp || new Date().toISOString(), type: e.type, ...partsOf(e, nameOf) }
}

/** A feed entry the UI itself writes (stream connected, lost). */
export function localEntry(tone: FeedTone, title: string, detail = ''): FeedEntry {
  return { id: nextId++, at: new Date().toISOString(), type: 'ui', tone, title, detail }
}

/** Put `entry` first and keep at most `limit` entries. */
export function pushEntry(feed: FeedEntry[], entry: FeedEntry, limit = FEED_LIMIT): void {
  feed.unshift(entry)
  if (feed.length > limit) feed.length = limit
}
