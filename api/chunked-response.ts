/**
 * Answers written a page at a time: the NDJSON audit export (docs/audit.md),
 * and `GET /agents` and `GET /revoked` without a `limit` (docs/api.md). Each
 * chunk is made only when the socket took the last one, so an answer holds
 * at most one page however large the registry or the log; a reader that
 * stops reading is cut off by the send deadline (send-deadline.ts), which
 * ends the wait here through the response's `close`.
 */
import type { Response } from 'express'
import type { AgentCursor, AgentQuery, ConnectionCursor, RevokedCursor } from '../node/store/index.js'
import type { AgentRecord, ConnectionView, RevokedView } from './types.js'
import type { PlacedRevocation } from '../node/core/views.js'

/** Write `chunks` to `res`, waiting when the socket is full, stopping when the client goes away. */
export async function pipeChunks(res: Response, chunks: Iterator<string>): Promise<void> {
  let closed = false
  let wake: () => void = () => undefined
  const onClose = (): void => {
    closed = true
    wake()
  }
  res.on('close', onClose)
  res.on('drain', () => wake())
  try {
    for (let next = chunks.next(); next.done !== true && !closed; next = chunks.next()) {
      const full = !res.write(next.value)
      await new Promise<void>((r) => (full && !closed ? (wake = r) : setImmediate(r)))
    }
  } finally {
    res.off('close', onClose)
  }
  res.end()
}

/**
 * Send `chunks` as a 200 answer of `type`. The status line is gone once the
 * first chunk is: a failure later cuts the answer short (a reader sees JSON
 * that does not parse, or an NDJSON export without its end line).
 */
export async function sendChunks(res: Response, type: string, chunks: Iterator<string>): Promise<void> {
  res.status(200).type(type).setHeader('Cache-Control', 'no-store')
  try {
    await pipeChunks(res, chunks)
  } catch (err) {
    res.destroy(err instanceof Error ? err : new Error(String(err)))
  }
}

/** Rows read from the store per chunk of a streamed list (agents, about 0.5 KB each as JSON). */
export const AGENT_PAGE = 256

/** What `agentListChunks` reads. */
export interface AgentListNode {
  listAgents(query: AgentQuery): AgentRecord[]
}

/**
 * `{"agents":[…],"total":n}` of every agent matching `query` (newest first,
 * as `GET /agents?limit` orders them), one page of `AGENT_PAGE` read from
 * the store per chunk, each page after the last row of the one before;
 * `total` counts the agents listed.
 */
export function agentListChunks(node: AgentListNode, query: AgentQuery): Generator<string> {
  return listChunks('agents', everyAgent(node, query))
}

/**
 * `{"<key>":[…],"total":n}` of `items`, a chunk per `AGENT_PAGE` items (each
 * page read as the one before is sent); `total` counts what was listed:
 * rows added while the pages are read may sort after the cursor (a
 * revocation's time is its signer's), so a count taken first could differ.
 */
function* listChunks(key: string, items: Iterable<unknown>): Generator<string> {
  let chunk = `{"${key}":[`
  let n = 0
  for (const item of items) {
    chunk += (n === 0 ? '' : ',') + JSON.stringify(item)
    if (++n % AGENT_PAGE === 0) {
      yield chunk
      chunk = ''
    }
  }
  yield chunk + `],"total":${n}}`
}

/** What `revokedListChunks` reads. */
export interface RevokedListNode {
  revokedAfter(after: RevokedCursor | undefined, limit: number): PlacedRevocation[]
}

/**
 * `{"revoked":[…],"total":n}` of every revoked DID (the revocation
 * learned last first), read as `listChunks` reads; `total` counts the DIDs
 * listed: one learned while the pages are read is above the first page, for
 * the next reader.
 */
export function revokedListChunks(node: RevokedListNode): Generator<string> {
  return listChunks('revoked', everyRevoked(node))
}

/**
 * Every row `read` gives, a page of `AGENT_PAGE` at a time, each page read
 * after the cursor of the last row of the one before (keyset paging).
 */
function* keysetPages<T, C>(read: (after: C | undefined) => T[], cursorOf: (last: T) => C): Generator<T> {
  let after: C | undefined
  for (;;) {
    const page = read(after)
    yield* page
    const last = page.at(-1)
    if (page.length < AGENT_PAGE || last === undefined) return
    after = cursorOf(last)
  }
}

/** Every agent matching `query` (newest first), read from the store `AGENT_PAGE` at a time. */
export function everyAgent(node: AgentListNode, query: AgentQuery = {}): Generator<AgentRecord> {
  return keysetPages<AgentRecord, AgentCursor>(
    (after) => node.listAgents({ ...query, limit: AGENT_PAGE, ...(after !== undefined ? { after } : {}) }),
    (last) => ({ createdAt: Date.parse(last.createdAt), did: last.did }),
  )
}

/** Every revoked DID (the revocation learned last first), read `AGENT_PAGE` at a time (the NDJSON export's lines). */
export function* everyRevoked(node: RevokedListNode): Generator<RevokedView> {
  const rows = keysetPages<PlacedRevocation, RevokedCursor>(
    (after) => node.revokedAfter(after, AGENT_PAGE),
    (last) => ({ place: last.place }),
  )
  for (const row of rows) yield row.view
}

/** Every verified connection (newest first), read `AGENT_PAGE` at a time (the NDJSON export's lines). */
export function everyConnection(node: {
  connections(limit?: number, after?: ConnectionCursor): ConnectionView[]
}): Generator<ConnectionView> {
  return keysetPages<ConnectionView, ConnectionCursor>(
    (after) => node.connections(AGENT_PAGE, after),
    (last) => ({ at: Date.parse(last.establishedAt), id: last.id }),
  )
}
