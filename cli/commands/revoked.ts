/** `meshsig revoked`: the revocation list of the node. */
import type { CAC } from 'cac'
import { apiClient } from '../api-client.js'
import type { CliContext, CliRuntime, GlobalOptions } from '../context.js'
import { oneLine, quoted } from '../../node/core/untrusted-text.js'
import { OK, type CommandResult } from '../output.js'

/** The DIDs the node knows to be revoked. */
export async function revokedCommand(ctx: CliContext): Promise<CommandResult> {
  const { revoked, total } = await apiClient(ctx).revoked()
  // name and reason are set by whoever registered and revoked the DID: quoted, on one line (untrusted-text.ts)
  const lines = revoked.map((r) =>
    oneLine(
      `  ${r.did}  ${r.revokedAt}  ${typeof r.name === 'string' ? quoted(r.name) : '-'}  by ${r.by}: ${quoted(r.reason)}`,
    ),
  )
  return {
    json: { revoked, total },
    human: total === 0 ? `${OK} No revoked agents` : [`${OK} ${total} revoked`, ...lines].join('\n'),
  }
}

/** Register `revoked`. */
export function registerRevoked(cli: CAC, rt: CliRuntime): void {
  cli
    .command('revoked', 'List revoked agents (talks to the node)')
    .action((options: GlobalOptions) => revokedCommand(rt.context(options)))
}
