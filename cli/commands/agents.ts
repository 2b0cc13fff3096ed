/** `meshsig agents` (alias `ls`): the agents a node knows, with trust scores. */
import type { CAC } from 'cac'
import type { AgentRecord } from '../../api/client.js'
import { apiClient } from '../api-client.js'
import type { CliContext, CliRuntime, GlobalOptions } from '../context.js'
import { quoted, oneLine } from '../../node/core/untrusted-text.js'
import { OK, type CommandResult } from '../output.js'

/** Options of `agents`. */
export interface AgentsOptions extends GlobalOptions {
  readonly capability?: string
}

/**
 * One agent on one line. Name and capabilities are chosen by whoever
 * registered the agent, anywhere on the mesh: quoted, with nothing in them
 * that adds a line or acts on a terminal (node/core/untrusted-text.ts); the
 * rest is the server's, on one line too.
 */
export function agentRow(a: AgentRecord): string {
  const caps = a.capabilities.map((c) => quoted(String(c.type))).join(',') || '-'
  const flags = [a.origin, a.status === 'revoked' ? 'REVOKED' : a.online ? 'online' : 'offline'].join(' ')
  return oneLine(
    `  ${quoted(String(a.name)).padEnd(22)} ${a.did}  trust ${a.trustScore.toFixed(2)}  ${flags}  [${caps}]`,
  )
}

/** List the node's agents. */
export async function agentsCommand(ctx: CliContext, options: AgentsOptions): Promise<CommandResult> {
  const q = options.capability !== undefined ? { capability: String(options.capability) } : {}
  const { agents, total } = await apiClient(ctx).agents(q)
  const human =
    total === 0
      ? `${OK} No agents on ${ctx.server}`
      : [`${OK} ${total} agent(s) on ${ctx.server}`, ...agents.map(agentRow)].join('\n')
  return { json: { agents, total }, human }
}

/** Register `agents` (alias `ls`). */
export function registerAgents(cli: CAC, rt: CliRuntime): void {
  cli
    .command('agents', 'List the agents on the mesh, with trust scores (talks to the node)')
    .alias('ls')
    .option('--capability <type>', 'Only agents offering this capability')
    .action((options: AgentsOptions) => agentsCommand(rt.context(options), options))
}
