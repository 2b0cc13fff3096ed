/**
 * `meshsig dashboard`: a link to the node's dashboard with a one-time pass
 * (docs/api.md, "Dashboard pass"): the page redeems it for a session that
 * counts against a rate-limit bucket of its own and may take the stream
 * slots kept for the operator, so that other local users cannot spend the
 * page's budget. Asks the node as the operator (the home's token, after the
 * node proved it holds it). The pass is spent by the first page that opens
 * it and expires in two minutes.
 */
import type { CAC } from 'cac'
import { apiClient } from '../api-client.js'
import type { CliContext, CliRuntime, GlobalOptions } from '../context.js'
import { OK, block, type CommandResult } from '../output.js'

/** A dashboard link with a fresh pass from the node at `--server`. */
export async function dashboardCommand(ctx: CliContext): Promise<CommandResult> {
  const client = apiClient(ctx)
  const issued = await client.dashboardPass()
  const url = `${client.server}/#pass=${issued.pass}`
  const expires = new Date(issued.expiresAt).toISOString()
  return {
    json: { url, expiresAt: issued.expiresAt },
    human: block(`${OK} dashboard link (open it within ${Math.round(issued.ttlMs / 1000)} s; one use)`, [
      ['URL', url],
      ['Expires', expires],
    ]),
  }
}

/** Register `dashboard`. */
export function registerDashboard(cli: CAC, rt: CliRuntime): void {
  cli
    .command('dashboard', 'A one-use link to the dashboard that keeps a rate-limit lane of its own (talks to the node)')
    .action((options: GlobalOptions) => dashboardCommand(rt.context(options)))
}
