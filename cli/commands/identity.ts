/** `meshsig identity` (aliases `id`, `whoami`): show the node's public identity, never its private key. */
import type { CAC } from 'cac'
import { loadIdentity, publicIdentity } from '../../node/identity/index.js'
import type { CliContext, CliRuntime, GlobalOptions } from '../context.js'
import { OK, block, type CommandResult } from '../output.js'

/** The public identity in the home folder. */
export async function identityCommand(ctx: CliContext): Promise<CommandResult> {
  const pub = publicIdentity(loadIdentity(ctx.home))
  return {
    json: { ...pub },
    human: block(`${OK} Identity`, [
      ['DID', pub.did],
      ['did:key', pub.didKey],
      ['PeerId', pub.peerId],
      ['Public key', pub.publicKey],
      ['Created', pub.createdAt],
    ]),
  }
}

/** Register `identity` with its aliases. */
export function registerIdentity(cli: CAC, rt: CliRuntime): void {
  cli
    .command('identity', 'Show your identity: DID, did:key, PeerId, public key')
    .alias('id')
    .alias('whoami')
    .action((options: GlobalOptions) => identityCommand(rt.context(options)))
}
