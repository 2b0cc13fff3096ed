/**
 * A page of stored messages bounded by bytes as well as by count (`GET
 * /messages`, the snapshot's messages; attack review 98): the newest first,
 * read from the store a few at a time, so that a history of large messages
 * is never loaded whole and a page never holds more than its byte budget
 * (besides its first message, which `GET /messages` always includes so that
 * a page is never empty by size; the snapshot's page is `strict` and leaves
 * out even its first message when that alone is too big, decision 0091).
 * `next` is the `before` of the page that follows.
 */
import type { MessageQuery } from '../node/store/index.js'
import type { MessageView } from '../node/services/report-service.js'

/** Messages read from the store per step while filling a page. */
const STEP = 8

/** What a page reads. */
export interface MessageReader {
  listMessages(query?: MessageQuery): MessageView[]
}

/** One page: its messages, newest first, and the `before` of the next page (null on the last). */
export interface MessagePage {
  readonly messages: MessageView[]
  readonly next: number | null
}

/** The bounds of a page: at most `limit` messages whose `sizeOf` sums to at most `maxBytes`. */
export interface PageBounds {
  readonly limit: number
  readonly maxBytes: number
  readonly sizeOf: (m: MessageView) => number
  /** The first message too must fit in `maxBytes` (the snapshot: docs/api.md, "WebSocket event stream"). */
  readonly strict?: boolean
}

/** Bytes of a message as `GET /messages` and the snapshot write it (JSON, UTF-8). */
export function jsonBytes(m: MessageView): number {
  return Buffer.byteLength(JSON.stringify(m))
}

/**
 * The newest messages of `query` (from `query.before` down, of `query.did`)
 * within `bounds`. One message past the page is read to tell whether
 * another page follows.
 */
export function messagePage(node: MessageReader, query: MessageQuery, bounds: PageBounds): MessagePage {
  const out: MessageView[] = []
  if (bounds.limit < 1) return { messages: out, next: null }
  let bytes = 0
  let before = query.before
  for (;;) {
    const want = Math.min(STEP, bounds.limit - out.length + 1)
    const batch = node.listMessages({ ...query, limit: want, ...(before !== undefined ? { before } : {}) })
    for (const m of batch) {
      const size = out.length < bounds.limit ? bounds.sizeOf(m) : 0
      const full = out.length === bounds.limit || ((out.length > 0 || bounds.strict) && bytes + size > bounds.maxBytes)
      if (full) return { messages: out, next: out.length > 0 ? out.at(-1)!.seq : m.seq + 1 }
      bytes += size
      out.push(m)
    }
    if (batch.length < want) return { messages: out, next: null }
    before = batch.at(-1)!.seq
  }
}
