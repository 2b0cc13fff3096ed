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
  /** Envelopes the log records as refused (`refusalsIn`: a refusal summary counts what it sums up). */
  readonly rejected: number
  readonly connections: number
  readonly keyEvents: number
  readonly entries: number
}

/** An agent as the summary counts it: its status and its trust as exported. */
export interface SummaryAgent {
  readonly status?: string | undefined
  readonly trustScore: number
}

/** Agent counts and trust sum, kept one agent at a time (the NDJSON export lists agents a page at a time). */
export class AgentTally {
  total = 0
  active = 0
  revoked = 0
  trustSum = 0

  /** Count one agent. */
  add(a: SummaryAgent): void {
    this.total += 1
    if (a.status === 'active') this.active += 1
    if (a.status === 'revoked') this.revoked += 1
    this.trustSum += a.trustScore
  }
}

/** The summary of an export of `agents` (their trust as exported) and `counts`. */
export function exportSummary(agents: readonly SummaryAgent[], counts: ExportCounts): ExportSummary {
  const tally = new AgentTally()
  for (const a of agents) tally.add(a)
  return summaryOf(tally, counts)
}

/** The summary of an export whose agents `tally` counted, and `counts`. */
export function summaryOf(tally: AgentTally, counts: ExportCounts): ExportSummary {
  const average = tally.total ? tally.trustSum / tally.total : 0
  return {
    totalAgents: tally.total,
    activeAgents: tally.active,
    revokedAgents: tally.revoked,
    totalMessages: counts.messages,
    verifiedMessages: counts.messages,
    failedVerifications: counts.rejected,
    averageTrust: Math.round(average * 1e4) / 1e4,
    totalConnections: counts.connections,
    keyEvents: counts.keyEvents,
    auditEntries: counts.entries,
  }
}
