/**
 * `meshsig revoke <did> [--reason <text>]`: revoke a DID through the node at
 * `--server`. Final: after it nothing from or to the DID is accepted on any
 * node. The reason defaults to "unspecified", as the API's (decision 0077).
 * Proof (docs/protocol.md §8), best first:
 *
 * - the DID of the home's identity (by default the node's own), only with
 *   `--own-identity` (decision 0077): the revocation is signed here with the
 *   identity key, submitted, and recorded in identity.json;
 * - `--private-key -` (stdin) or `--private-key-file PATH` (a 0600 file;
 *   never a literal seed on the command line): signed here with that key
 *   when it is the DID's current key or its controller's (else
 *   `KEY_MISMATCH`, nothing sent); only the envelope travels;
 * - otherwise the node's operator (loopback, or the API token in
 *   $MESHSIG_HOME): the node signs with the custodied key of an agent it
 *   hosts, or as the agent's controller.
 *
 * A refusal (no proof) changes nothing and exits 1 with its code.
 */
import type { CAC } from 'cac'
import type { ApiRevoked, KeyView } from '../../api/client.js'
import { PRIOR_KEYS_TRIED } from '../../node/core/acceptance.js'
import { toB64 } from '../../node/core/encoding.js'
import { codesWhere, isMeshsigError, MeshsigError } from '../../node/core/errors.js'
import { createRevocation } from '../../node/core/factory.js'
import type { KeyPair } from '../../node/core/keys.js'
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
  /** Set to revoke the identity of the home (by default the node's own DID): it is asked for by name. */
  readonly ownIdentity?: boolean
  /** "-": read from stdin (a literal seed is refused). */
  readonly privateKey?: string
  /** A file holding the b64 seed, readable by its owner only. */
  readonly privateKeyFile?: string
}

/** Longest reason a `rev` envelope carries. */
export const MAX_REASON_LENGTH = 512

/** Reason recorded when none is given: the API's and `meshsig_revoke`'s default too. */
export const DEFAULT_REVOKE_REASON = 'unspecified'

/** Codes that mean "the node refused for lack of proof": a negative answer, exit 1. */
const REFUSALS: ReadonlySet<string> = codesWhere((e) => e.lackOfProof === true)

/**
 * The reason a revocation carries, checked here exactly as the node checks it
 * (at most `MAX_REASON_LENGTH` UTF-16 units, no lone surrogate, which its
 * canonical form refuses: docs/protocol.md §3), so that nothing the node must
 * refuse goes out with the operator token and spends its bucket (attack
 * review 121). Empty or missing: `DEFAULT_REVOKE_REASON`.
 */
export function revokeReason(value: unknown): string {
  const reason = value === undefined || value === true ? '' : String(value).trim()
  if (reason === '') return DEFAULT_REVOKE_REASON
  if (reason.length > MAX_REASON_LENGTH) {
    throw new MeshsigError('INVALID_INPUT', `--reason is longer than ${MAX_REASON_LENGTH} characters`, {
      field: 'reason',
    })
  }
  if (!reason.isWellFormed()) {
    const why = '--reason holds a lone UTF-16 surrogate, which no signed envelope can carry: nothing was sent'
    throw new MeshsigError('INVALID_INPUT', why, { field: 'reason' })
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
  const view = await client.keyState(did)
  const state = keyStateOf(view)
  await checkRevokingKey(client, view, key!)
  const rev = createRevocation(state, key!, reason, ctx.io.now())
  return client.revoke({ did, reason, envelope: rev })
}

/**
 * Refuse, before anything is signed or sent, a key that may not revoke the DID: neither its current key nor a
 * key of the controller its registration names (current or one of the last `PRIOR_KEYS_TRIED` it held before,
 * as docs/protocol.md §5 and §6 take them).
 * The node would charge such a `rev` as a forgery and audit every try; the API and `rotate-key` answer the
 * same key `KEY_MISMATCH` and write nothing (review 105 L3).
 */
async function checkRevokingKey(
  client: { keyState(did: string): Promise<KeyView> },
  view: KeyView,
  key: KeyPair,
): Promise<void> {
  const given = toB64(key.publicKey)
  if (given === view.publicKey) return
  const controller = view.registration?.controller
  if (controller !== undefined && controller !== view.did) {
    const theirs = await client.keyState(controller)
    // the keys the node tries, no more (PRIOR_KEYS_TRIED, docs/protocol.md §5; review 106)
    if (given === theirs.publicKey || theirs.priorKeys.slice(-PRIOR_KEYS_TRIED).includes(given)) return
  }
  const why = `the key given is neither the current key of ${view.did} nor its controller's: nothing was sent`
  throw new MeshsigError('KEY_MISMATCH', why, { did: view.did })
}

/**
 * The identity of the home is revoked only when asked for by name (`--own-identity`, decision 0077): final,
 * and by default it is the node's own DID, after which the node registers no agent and rotates none.
 */
function checkOwnIdentity(ctx: CliContext, did: string, options: RevokeOptions): void {
  const own = homeIdentity(ctx, did) !== undefined
  if (own && options.ownIdentity !== true) {
    const why =
      `${did} is the identity in ${ctx.home} (a node started there runs as it): revoking it is final, the node ` +
      'then registers and rotates no agent. To revoke it (its key was stolen: docs/SECURITY.md), add --own-identity'
    throw new MeshsigError('INVALID_INPUT', why, { field: 'own-identity' })
  }
  if (!own && options.ownIdentity === true) {
    const why = `--own-identity: ${did} is not the identity in ${ctx.home}`
    throw new MeshsigError('INVALID_INPUT', why, { field: 'own-identity' })
  }
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
  const reason = revokeReason(options.reason)
  checkOwnIdentity(ctx, did, options)
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
    .option('--reason <text>', `Why (default "${DEFAULT_REVOKE_REASON}"): kept in it and shown by meshsig revoked`)
    .option('--own-identity', "Needed to revoke this home's identity, the node's own DID (a stolen node key)")
    .option('--private-key <->', "The DID's current key or its controller's: - reads it (b64) from stdin")
    .option('--private-key-file <path>', "The DID's current key or its controller's, from a file only you can read")
    .example('  meshsig revoke did:msig:3icq... --reason "Key leaked"')
    .example('  meshsig revoke <node DID> --own-identity --reason "Node key stolen"')
    .action((did: string, options: RevokeOptions) => revokeCommand(rt.context(options), did, options))
}
