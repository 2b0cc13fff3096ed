/**
 * Answers written a page at a time: the NDJSON audit export (docs/audit.md),
 * and `GET /agents` and `GET /revoked` without a `limit` (docs/api.md). Each
 * chunk is made only when the socket took the last one, so an answer holds
 * at most one page however large the registry or the log; a reader that
 * stops reading is cut off by the send deadline (send-deadline.ts), which
 * ends the wait here through the response's `close`.
 */
import type { Response } from 'express'
import type { AgentCursor, AgentQuery, RevokedCursor } from '../node/store/index.js'
import type { AgentRecord, RevokedView } from './types.js'

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

/** Agents read from the store per chunk of `agentListChunks` (about 0.5 KB each as JSON). */
export const AGENT_PAGE = 256

/** What `agentListChunks` reads. */
export interface AgentListNode {
  listAgents(query: AgentQuery): AgentRecord[]
  countAgents(query: AgentQuery): number
}

/**
 * `{"agents":[…],"total":n}` of every agent matching `query` (newest first,
 * as `GET /agents?limit` orders them), one page of `AGENT_PAGE` read from
 * the store per chunk, each page after the last row of the one before.
 * `total` is counted when the answer begins; agents registered meanwhile are
 * newer than its first row, so they are neither listed nor counted.
 */
export function* agentListChunks(node: AgentListNode, query: AgentQuery): Generator<string> {
  const total = node.countAgents(query)
  let after: AgentCursor | undefined
  let chunk = '{"agents":['
  for (;;) {
    const page = node.listAgents({ ...query, limit: AGENT_PAGE, ...(after !== undefined ? { after } : {}) })
    for (const [i, agent] of page.entries()) {
      chunk += (after === undefined && i === 0 ? '' : ',') + JSON.stringify(agent)
    }
    const last = page.at(-1)
    if (page.length < AGENT_PAGE || last === undefined) break
    after = { createdAt: Date.parse(last.createdAt), did: last.did }
    yield chunk
    chunk = ''
  }
  yield chunk + `],"total":${total}}`
}

/** What `revokedListChunks` reads. */
export interface RevokedListNode {
  revokedAfter(after: RevokedCursor | undefined, limit: number): RevokedView[]
  revokedCount(): number
}

/**
 * `{"revoked":[…],"total":n}` of every revoked DID (newest revocation
 * first), one page of `AGENT_PAGE` read per chunk after the last row of the
 * one before. `total` is counted when the answer begins; revocations made
 * meanwhile are newer than its first row, so they are neither listed nor
 * counted.
 */
export function* revokedListChunks(node: RevokedListNode): Generator<string> {
  const total = node.revokedCount()
  let after: RevokedCursor | undefined
  let chunk = '{"revoked":['
  for (;;) {
    const page = node.revokedAfter(after, AGENT_PAGE)
    for (const [i, view] of page.entries()) chunk += (after === undefined && i === 0 ? '' : ',') + JSON.stringify(view)
    const last = page.at(-1)
    if (page.length < AGENT_PAGE || last === undefined) break
    after = { ts: Date.parse(last.revokedAt), did: last.did }
    yield chunk
    chunk = ''
  }
  yield chunk + `],"total":${total}}`
}
