/**
 * `meshsig init [--force]`: make the node's identity and API token, and the
 * custody key when there is none (kept across `--force`: it seals the seeds
 * of custodied agents in the database). Never prints a private key.
 */
import type { CAC } from 'cac'
import {
  apiTokenPath,
  createApiToken,
  createIdentity,
  replaceIdentity,
  ensureCustodyKey,
  identityPath,
  publicIdentity,
} from '../../node/identity/index.js'
import type { CliContext, CliRuntime, GlobalOptions } from '../context.js'
import { OK, type CommandResult } from '../output.js'

/** Options of `init`. */
export interface InitOptions extends GlobalOptions {
  readonly force?: boolean
}

/** Create the identity (refused when one exists, unless `force`) and a fresh API token. */
export async function initCommand(ctx: CliContext, options: InitOptions): Promise<CommandResult> {
  const opts = { now: ctx.io.now() }
  const identity = options.force === true ? await replaceIdentity(ctx.home, opts) : createIdentity(ctx.home, opts)
  createApiToken(ctx.home)
  ensureCustodyKey(ctx.home)
  const pub = publicIdentity(identity)
  const path = identityPath(ctx.home)
  return {
    json: { ...pub, path, apiTokenPath: apiTokenPath(ctx.home) },
    human: [`${OK} Identity generated`, `  DID: ${pub.did}`, `  Saved to ${path} (mode 0600)`].join('\n'),
  }
}

/** Register `init`. */
export function registerInit(cli: CAC, rt: CliRuntime): void {
  cli
    .command('init', 'Generate this node’s Ed25519 identity (offline)')
    .option('--force', 'Replace an existing identity (its keys are lost)')
    .example('  meshsig init')
    .action((options: InitOptions) => initCommand(rt.context(options), options))
}
