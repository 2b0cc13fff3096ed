/**
 * The API view of a stored message (`GET /messages`, the snapshot, the audit
 * export: docs/api.md): the signed fields under their API names plus where
 * and when this node got it. Pure: the row comes in.
 */
import { isoTime } from './encoding.js'
import type { MsgEnvelope } from './envelope-schema.js'
import type { MessageView } from './views.js'

/** What the view needs of a stored message. */
export interface StoredMessageFields {
  readonly seq: number
  readonly id: string
  readonly source: string
  /** ms since the epoch. */
  readonly receivedAt: number
  readonly envelope: MsgEnvelope
}

/** Turn a stored message into its API view. */
export function messageView(row: StoredMessageFields): MessageView {
  const e = row.envelope
  return {
    seq: row.seq,
    id: row.id,
    from: e.from,
    to: e.to,
    message: e.body,
    signature: e.sig,
    nonce: e.nonce,
    ts: e.ts,
    timestamp: isoTime(e.ts),
    verified: true,
    source: row.source,
    receivedAt: new Date(row.receivedAt).toISOString(),
    envelope: e,
  }
}
