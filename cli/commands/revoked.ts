/** `meshsig revoked`: the revocation list of the node. */
import type { CAC } from 'cac'
import type { RevokedView } from '../../api/client.js'
import { apiClient } from '../api-client.js'
import type { CliContext, CliRuntime, GlobalOptions } from '../context.js'
import { oneLine, quoted } from '../../node/core/untrusted-text.js'
import { OK, type CommandResult } from '../output.js'

/**
 * One revoked DID on one line. Name and reason are set by whoever registered
 * and revoked the DID: quoted, on one line (node/core/untrusted-text.ts).
 */
export function revokedRow(r: RevokedView): string {
  const name = typeof r.name === 'string' ? quoted(r.name) : '-'
  return oneLine(`  ${r.did}  ${r.revokedAt}  ${name}  by ${r.by}: ${quoted(r.reason)}`)
}

/** The DIDs the node knows to be revoked. */
export async function revokedCommand(ctx: CliContext): Promise<CommandResult> {
  const { revoked, total } = await apiClient(ctx).revoked()
  const lines = revoked.map(revokedRow)
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
