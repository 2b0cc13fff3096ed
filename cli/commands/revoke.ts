/**
 * `meshsig revoke <did> --reason <text>`: revoke a DID through the node at
 * `--server`. Final: after it nothing from or to the DID is accepted on any
 * node. Proof (docs/protocol.md §8), best first:
 *
 * - the DID of the home's identity: the revocation is signed here with the
 *   identity key, submitted, and recorded in identity.json;
 * - `--private-key -` (stdin) or `--private-key-file PATH` (a 0600 file;
 *   never a literal seed on the command line): signed here with that key
 *   (the DID's current key, or its controller's); only the envelope travels;
 * - otherwise the node's operator (loopback, or the API token in
 *   $MESHSIG_HOME): the node signs with the custodied key of an agent it
 *   hosts, or as the agent's controller.
 *
 * A refusal (no proof) changes nothing and exits 1 with its code.
 */
import type { CAC } from 'cac'
import type { ApiRevoked } from '../../api/client.js'
import { codesWhere, isMeshsigError, MeshsigError } from '../../node/core/errors.js'
import { createRevocation } from '../../node/core/factory.js'
import { oneLine, quoted } from '../../node/core/untrusted-text.js'
import {
  identityExists,
  identityRevocation,
  loadIdentity,
  recordIdentityRevocation,
  type Identity,
} from '../../node/identity/index.js'
import { apiClient, proofClient } from '../api-client.js'
import type { CliContext, CliRuntime, GlobalOptions } from '../context.js'
import { didArgument, keyStateOf, readKeyOptions } from '../key-input.js'
import { FAIL, OK, block, type CommandResult } from '../output.js'

/** Options of `revoke`. */
export interface RevokeOptions extends GlobalOptions {
  readonly reason?: string
  /** "-": read from stdin (a literal seed is refused). */
  readonly privateKey?: string
  /** A file holding the b64 seed, readable by its owner only. */
  readonly privateKeyFile?: string
}

/** Longest reason a `rev` envelope carries. */
export const MAX_REASON_LENGTH = 512

/** Codes that mean "the node refused for lack of proof": a negative answer, exit 1. */
const REFUSALS: ReadonlySet<string> = codesWhere((e) => e.lackOfProof === true)

function reasonOf(value: unknown): string {
  const reason = value === undefined || value === true ? '' : String(value).trim()
  if (reason === '')
    throw new MeshsigError('INVALID_INPUT', 'give --reason <text>: a revocation is final', { field: 'reason' })
  if (reason.length > MAX_REASON_LENGTH) {
    throw new MeshsigError('INVALID_INPUT', `--reason is longer than ${MAX_REASON_LENGTH} characters`, {
      field: 'reason',
    })
  }
  return reason
}

/** The identity in the home when its DID is `did`, else undefined. */
export function homeIdentity(ctx: CliContext, did: string): Identity | undefined {
  try {
    if (!identityExists(ctx.home)) return undefined
    const identity = loadIdentity(ctx.home)
    return identity.did === did ? identity : undefined
  } catch {
    return undefined
  }
}

async function revokeOwnIdentity(ctx: CliContext, identity: Identity, reason: string): Promise<ApiRevoked> {
  const rev = identityRevocation(identity, reason, ctx.io.now())
  const answer = await (await proofClient(ctx)).revoke({ did: identity.did, reason, envelope: rev })
  recordIdentityRevocation(ctx.home, rev)
  return answer
}

function keyGiven(options: RevokeOptions): boolean {
  return options.privateKey !== undefined || options.privateKeyFile !== undefined
}

async function revokeWithKey(
  ctx: CliContext,
  did: string,
  reason: string,
  options: RevokeOptions,
): Promise<ApiRevoked> {
  const [key] = await readKeyOptions(ctx.io, [
    { name: '--private-key', value: options.privateKey, file: options.privateKeyFile },
  ])
  const client = await proofClient(ctx)
  const state = keyStateOf(await client.keyState(did))
  const rev = createRevocation(state, key!, reason, ctx.io.now())
  return client.revoke({ did, reason, envelope: rev })
}

async function revokeThroughNode(ctx: CliContext, did: string, reason: string, options: RevokeOptions) {
  const own = homeIdentity(ctx, did)
  if (own !== undefined && !keyGiven(options)) return revokeOwnIdentity(ctx, own, reason)
  if (keyGiven(options)) return revokeWithKey(ctx, did, reason, options)
  return apiClient(ctx).revoke({ did, reason })
}

async function whoRevoked(ctx: CliContext, did: string): Promise<string | undefined> {
  try {
    return (await apiClient(ctx).keyState(did)).revocation?.by
  } catch {
    return undefined
  }
}

/** Revoke `target` with the strongest proof at hand. */
export async function revokeCommand(ctx: CliContext, target: string, options: RevokeOptions): Promise<CommandResult> {
  const did = await didArgument(ctx, target)
  const reason = reasonOf(options.reason)
  let r: ApiRevoked
  try {
    r = await revokeThroughNode(ctx, did, reason, options)
  } catch (err) {
    if (!isMeshsigError(err) || !REFUSALS.has(err.code)) throw err
    return {
      json: { revoked: false, did, error: err.message, code: err.code },
      human: block(`${FAIL} Not revoked (${err.code})`, [['Why', err.message]]),
      exitCode: 1,
    }
  }
  const by = await whoRevoked(ctx, did)
  const json = { ...r, ...(by !== undefined ? { by } : {}) }
  // the node's echo: quoted or on one line like any answer from the network (untrusted-text.ts)
  const rows: Array<[string, string]> = [
    ['DID', oneLine(String(r.did))],
    ['Reason', quoted(String(r.reason))],
    ['Revoked at', oneLine(String(r.revokedAt))],
    ['Key seq', oneLine(String(r.keySeq))],
  ]
  if (by !== undefined) rows.push(['By', by === 'self' ? 'the DID itself' : 'its controller (hosting node)'])
  rows.push(['Final', 'nothing from or to this DID is accepted any more'])
  return { json, human: block(`${OK} Revoked`, rows) }
}

/** Register `revoke`. */
export function registerRevoke(cli: CAC, rt: CliRuntime): void {
  cli
    .command('revoke <did>', 'Revoke a DID for good (talks to the node; needs its key or its controller)')
    .option('--reason <text>', 'Why, required: a revocation is final (kept in it and shown by meshsig revoked)')
    .option('--private-key <->', "The DID's current key or its controller's: - reads it (b64) from stdin")
    .option('--private-key-file <path>', "The DID's current key or its controller's, from a file only you can read")
    .example('  meshsig revoke did:msig:3icq... --reason "Key leaked"')
    .action((did: string, options: RevokeOptions) => revokeCommand(rt.context(options), did, options))
}
