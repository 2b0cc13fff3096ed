/**
 * The agent record every face shows (API, CLI, dashboard, MCP), in the
 * shape the seed's clients already read.
 */
import type { KeyState } from '../core/index.js'
import type { AgentRow } from '../store/index.js'

/** An agent as the API returns it. */
export interface AgentRecord {
  readonly did: string
  /** Current public key (b64): after rotation, not the key the DID encodes. */
  readonly publicKey: string
  readonly name: string
  readonly displayName: string
  readonly capabilities: { type: string; confidence?: number }[]
  readonly status: 'active' | 'revoked'
  readonly keySeq: number
  readonly trustScore: number
  readonly interactionsTotal: number
  readonly interactionsSuccess: number
  readonly online: boolean
  readonly origin: 'local' | 'remote'
  /** DID of the node hosting the agent. */
  readonly originServer: string
  readonly peerId: string
  readonly createdAt: string
  readonly lastSeenAt: string
  readonly revokedAt?: string
  readonly revocationReason?: string
}

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
    createdAt: new Date(row.createdAt).toISOString(),
    lastSeenAt: new Date(row.lastSeenAt).toISOString(),
  }
  return revoked
    ? { ...record, revokedAt: new Date(revoked.ts).toISOString(), revocationReason: revoked.reason }
    : record
}
