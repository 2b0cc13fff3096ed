/**
 * `meshsig audit`: the node's audit export. With `--json` the whole export
 * (every agent, connection, message, key event and audit entry, with the
 * signed checkpoint: `meshsig audit --json > report.json`); without it a
 * summary.
 */
import type { CAC } from 'cac'
import { apiClient } from '../api-client.js'
import type { CliContext, CliRuntime, GlobalOptions } from '../context.js'
import { OK, block, type CommandResult } from '../output.js'

/** Export the audit report of the node at `--server`. */
export async function auditCommand(ctx: CliContext): Promise<CommandResult> {
  const report = await apiClient(ctx).auditExport()
  const s = report.summary
  return {
    json: report as unknown as Record<string, unknown>,
    human: block(`${OK} Audit report of ${report.node.name} (${report.exportedAt})`, [
      ['Agents', `${s.totalAgents} (${s.activeAgents} active, ${s.revokedAgents} revoked)`],
      ['Messages', `${s.totalMessages} verified, ${s.failedVerifications} rejected`],
      ['Connections', String(s.totalConnections)],
      ['Average trust', s.averageTrust.toFixed(2)],
      ['Key events', String(s.keyEvents)],
      ['Audit entries', `${s.auditEntries} (checkpoint root ${report.checkpoint.root})`],
      ['Full export', 'meshsig audit --json > report.json'],
    ]),
  }
}

/** Register `audit`. */
export function registerAudit(cli: CAC, rt: CliRuntime): void {
  cli
    .command('audit', 'Export the audit log: summary, or everything with --json (talks to the node)')
    .example('  meshsig audit --json > audit-2026-03.json')
    .action((options: GlobalOptions) => auditCommand(rt.context(options)))
}
