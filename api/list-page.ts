/**
 * One page of a list read from the store (`GET /agents?limit`, `GET
 * /revoked?limit`; docs/api.md): `limit` rows from a `cursor` on, read as
 * one page of `limit + 1` so that `next` says whether a page follows. The
 * cursor is the last row's place in the list's order (keyset paging, as the
 * streamed lists read the store; agents: newest registration first, by time
 * and DID; revocations: the one learned last first, by its place), so a row
 * added meanwhile moves no other row to another page.
 */
import type { AgentCursor, RevokedCursor } from '../node/store/index.js'
import type { AgentRecord } from './types.js'
import type { ConnectionView, PlacedRevocation } from '../node/core/views.js'

/** A page: its rows and the cursor of the next (null on the last). */
export interface ListPage<T> {
  readonly rows: T[]
  readonly next: string | null
}

/** The first `limit` of `rows` (read `limit + 1`), and the cursor after them when a row was left over. */
export function pageOf<T>(rows: T[], limit: number, cursorOf: (last: T) => string): ListPage<T> {
  const page = rows.slice(0, limit)
  const last = page.at(-1)
  return { rows: page, next: rows.length > limit && last !== undefined ? cursorOf(last) : null }
}

/** The cursor after `a` in the agent list (newest registration first). */
export function agentCursor(a: AgentRecord): string {
  return `${Date.parse(a.createdAt)}.${a.did}`
}

/** The cursor after `c` in the connection list (newest first, ties by id): its time in ms and id. */
export function connectionCursor(c: ConnectionView): string {
  return `${Date.parse(c.establishedAt)}.${c.id}`
}

/** The cursor after `r` in the revocation list (the revocation learned last first): its place and DID. */
export function revokedCursor(r: PlacedRevocation): string {
  return `${r.place}.${r.view.did}`
}

/** A parsed `cursor` (api/schemas.ts) as the store's agent cursor. */
export function afterAgent(c: { ms: number; did: string } | undefined): { after?: AgentCursor } {
  return c === undefined ? {} : { after: { createdAt: c.ms, did: c.did } }
}

/** A parsed `cursor` as the store's revocation cursor (undefined: from the newest); its place is the number. */
export function afterRevoked(c: { ms: number; did: string } | undefined): RevokedCursor | undefined {
  return c === undefined ? undefined : { place: c.ms }
}

/**
 * The `next` of a `GET /trust` page (decision 0081): base64url of the JSON `[agents, peers, connections]`,
 * each the last key answered of a list that has more, null for one that is done; null when all are done.
 */
export function trustCursor(keys: readonly [string | null, string | null, string | null]): string | null {
  return keys.every((k) => k === null) ? null : Buffer.from(JSON.stringify(keys)).toString('base64url')
}
