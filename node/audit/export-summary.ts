/**
 * The `summary` of an audit export (docs/audit.md), computed the same way for
 * the JSON export (report-service.ts) and the NDJSON end line
 * (export-stream.ts): agent counts and average trust from the agent list,
 * the other counts from what the export holds.
 */

/** The counts an audit export states about itself. */
export interface ExportSummary {
  readonly totalAgents: number
  readonly activeAgents: number
  readonly revokedAgents: number
  readonly totalMessages: number
  readonly verifiedMessages: number
  readonly failedVerifications: number
  /** Mean trust score of the agents, to 4 decimals (0 without agents). */
  readonly averageTrust: number
  readonly totalConnections: number
  readonly keyEvents: number
  readonly auditEntries: number
}

/** What the export holds, counted by the writer. */
export interface ExportCounts {
  /** Stored messages exported (each one verified). */
  readonly messages: number
  /** Envelopes the log records as refused. */
  readonly rejected: number
  readonly connections: number
  readonly keyEvents: number
  readonly entries: number
}

/** The summary of an export of `agents` (their trust as exported) and `counts`. */
export function exportSummary(
  agents: readonly { readonly status?: string | undefined; readonly trustScore: number }[],
  counts: ExportCounts,
): ExportSummary {
  const average = agents.length ? agents.reduce((s, a) => s + a.trustScore, 0) / agents.length : 0
  return {
    totalAgents: agents.length,
    activeAgents: agents.filter((a) => a.status === 'active').length,
    revokedAgents: agents.filter((a) => a.status === 'revoked').length,
    totalMessages: counts.messages,
    verifiedMessages: counts.messages,
    failedVerifications: counts.rejected,
    averageTrust: Math.round(average * 1e4) / 1e4,
    totalConnections: counts.connections,
    keyEvents: counts.keyEvents,
    auditEntries: counts.entries,
  }
}
