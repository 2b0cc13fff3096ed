/** `meshsig stats` (alias `status`): the node's network statistics. */
import type { CAC } from 'cac'
import { apiClient } from '../api-client.js'
import type { CliContext, CliRuntime, GlobalOptions } from '../context.js'
import { oneLine, quoted } from '../../node/core/untrusted-text.js'
import { OK, block, type CommandResult } from '../output.js'

/** Statistics of the node at `--server`. */
export async function statsCommand(ctx: CliContext): Promise<CommandResult> {
  const client = apiClient(ctx)
  const [health, stats] = await Promise.all([client.health(), client.stats()])
  return {
    json: { ...stats, name: health.name, did: health.did, version: health.version },
    human: block(`${OK} meshsig node ${quoted(String(health.name))} (${ctx.server})`, [
      ['DID', oneLine(String(health.did))],
      ['Agents', `${stats.agents} (${stats.active} active, ${stats.revoked} revoked; ${stats.localAgents} local)`],
      ['Messages', String(stats.messages)],
      ['Connections', String(stats.connections)],
      ['Peers', String(stats.peers)],
      ['Audit entries', String(stats.auditEntries)],
      ['Uptime', `${stats.uptime} s`],
    ]),
  }
}

/** Register `stats` (alias `status`). */
export function registerStats(cli: CAC, rt: CliRuntime): void {
  cli
    .command('stats', 'Network statistics of the node (talks to the node)')
    .alias('status')
    .action((options: GlobalOptions) => statsCommand(rt.context(options)))
}
