/**
 * The agent record every face shows (API, CLI, dashboard, MCP), in the
 * shape the seed's clients already read.
 */
import { isoTime, type KeyState } from '../core/index.js'
import type { AgentRow } from '../store/index.js'
import type { AgentRecord } from '../core/views.js'

export type { AgentRecord }

/**
 * Trust of a DID from its verified history; see docs/protocol.md (Beta
 * reputation). The node reads the audit log's evidence for the DID, so
 * scores match the export.
 */
export type TrustFn = (did: string) => number

/** Build the public record of an agent row. */
export function toAgentRecord(
  row: AgentRow,
  state: KeyState | undefined,
  online: boolean,
  trust: TrustFn,
): AgentRecord {
  const revoked = state?.revoked ?? null
  const record: AgentRecord = {
    did: row.did,
    publicKey: state?.key ?? '',
    name: row.name,
    displayName: row.name,
    capabilities: row.capabilities,
    status: revoked ? 'revoked' : 'active',
    keySeq: state?.seq ?? 0,
    trustScore: trust(row.did),
    interactionsTotal: row.messagesSent + row.messagesReceived + row.failures,
    interactionsSuccess: row.messagesSent + row.messagesReceived,
    online: online && !revoked,
    origin: row.origin,
    originServer: row.controller,
    peerId: row.peerId,
    createdAt: isoTime(row.createdAt),
    lastSeenAt: isoTime(row.lastSeenAt),
  }
  return revoked ? { ...record, revokedAt: isoTime(revoked.ts), revocationReason: revoked.reason } : record
}
