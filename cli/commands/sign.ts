/** `meshsig sign <message>`: plain Ed25519 signature over the message's UTF-8 bytes (docs/protocol.md §3). */
import type { CAC } from 'cac'
import { toB64 } from '../../node/core/encoding.js'
import { signPlain } from '../../node/core/plain-signature.js'
import { loadIdentity } from '../../node/identity/index.js'
import type { CliContext, CliRuntime, GlobalOptions } from '../context.js'
import { messageBytes } from '../message.js'
import { OK, block, type CommandResult } from '../output.js'

/** Sign `message` ("-" = stdin bytes) with the identity in the home folder. */
export async function signCommand(ctx: CliContext, message: string): Promise<CommandResult> {
  const identity = loadIdentity(ctx.home)
  const bytes = await messageBytes(message, ctx.io)
  const signature = toB64(signPlain(bytes, identity.keyPair))
  return {
    json: { signature, did: identity.did, publicKey: identity.file.publicKey },
    human: block(`${OK} Message signed`, [['SIGNATURE', signature]]),
  }
}

/** Register `sign`. */
export function registerSign(cli: CAC, rt: CliRuntime): void {
  cli
    .command('sign <message>', 'Sign a message with your identity ("-" reads stdin; offline)')
    .example('  meshsig sign "Deploy the new model to production"')
    .example('  printf %s "$MSG" | meshsig sign -')
    .action((message: string, options: GlobalOptions) => signCommand(rt.context(options), message))
}
