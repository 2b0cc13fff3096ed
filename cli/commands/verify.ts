/**
 * `meshsig verify <message> <signature> <signer>`: check a plain signature.
 * The signer is a did:msig, a did:key or a b64 public key; a did:key or key
 * names the did:msig whose inception key it is, and is judged by that DID's
 * key event log like the DID itself (docs/protocol.md §1): the node at
 * `--server` gives the DID's signed key events (its log knows every rotation
 * and revocation), and verify replays them here from the DID's inception key
 * (`provenKey`), so no server can name a key of its own. Only when no node can answer (no
 * connection could be made: `noConnection` of api/client-http.ts), or with
 * `--offline`, the signature is checked against the key the signer names, and
 * the output says so. A node that answers with an error (429, 403, 500, …),
 * takes the connection and does not answer in time (`TIMEOUT`) or breaks it
 * off fails the command with that error's code: never a fail-open "valid".
 * With a token at hand (the home's, or `MESHSIG_TOKEN`) a server on this
 * machine must first prove it is the node (`NODE_UNPROVEN` otherwise, decision
 * 0055); without one, the answer's `note` says the key state is the server's
 * unproven word. Exit 0 valid, 1 invalid (also: rotated-out key, revoked DID),
 * 2 malformed input, 3 no answer (or an unproven server).
 */
import type { CAC } from 'cac'
import { noConnection, type KeyView } from '../../api/client.js'
import { DID_KEY_PREFIX, DID_MSIG_PREFIX, didFromPublicKey, publicKeyFromIdentifier } from '../../node/core/did.js'
import { fromB64, toB64 } from '../../node/core/encoding.js'
import { isMeshsigError, MeshsigError } from '../../node/core/errors.js'
import type { KeyState } from '../../node/core/kel.js'
import { oneLine, quoted } from '../../node/core/untrusted-text.js'
import { provenKeyState } from '../../node/core/key-log-proof.js'
import { SIGNATURE_LENGTH, verifySignature } from '../../node/core/keys.js'
import { apiClient, provesNode, tokenFor } from '../api-client.js'
import type { CliContext, CliRuntime, GlobalOptions } from '../context.js'
import { messageBytes } from '../message.js'
import { FAIL, OK, block, type CommandResult } from '../output.js'

/** Where the verifying key came from. */
export type KeySource =
  | 'key event log (node)'
  | 'did:msig inception key (no key event log on the node)'
  | 'did:msig inception key (offline)'
  | 'did:key'
  | 'public key'

/** Note shown when a did:msig was checked against its inception key. */
export const OFFLINE_NOTE =
  'checked offline against the DID’s inception key; after a key rotation only a node knows the current key'

/** Note shown when a did:key or public key was checked as it is, without the log of the DID it names. */
export const OFFLINE_KEY_NOTE =
  'checked offline against this key; only a node knows whether the DID it names rotated away from it or is revoked'

/**
 * How long the node gets to answer (ms); after it verify fails with `TIMEOUT`
 * (a node that is there but slow is no reason to fall back to the inception key).
 */
export const VERIFY_NODE_TIMEOUT_MS = 5000

/** Options of `verify`. */
export interface VerifyOptions extends GlobalOptions {
  /** Do not ask the node: check a did:msig against its inception key. */
  readonly offline?: boolean
}

/** The key a signature is checked under, and what else is known about its signer. */
interface ResolvedKey {
  /** The did:msig the signer names (the DID itself, or the DID whose inception key it is). */
  readonly did: string
  readonly publicKey: Uint8Array
  readonly source: KeySource
  readonly priorKeys: readonly string[]
  readonly keySeq?: number
  readonly revocation?: { readonly reason: string; readonly revokedAt: string; readonly by: string }
  readonly note?: string
}

function nodeRefused(ctx: CliContext, did: string, err: unknown): unknown {
  if (!isMeshsigError(err)) return err
  const why = `the node at ${ctx.server} did not give the current key of ${did}: ${err.message}; not verified (--offline checks against the inception key)`
  return new MeshsigError(err.code, why, err.details)
}

/** What the signer is, and the sources of its key when no key event log decides. */
interface Signer {
  readonly did: string
  /** The key the signer names (the DID's inception key). */
  readonly key: Uint8Array
  readonly isDid: boolean
  readonly ownSource: KeySource
  /** What a check without the node cannot tell. */
  readonly offlineNote: string
}

function signerOf(signer: string): Signer {
  const key = publicKeyFromIdentifier(signer)
  const isDid = signer.startsWith(DID_MSIG_PREFIX)
  const ownSource: KeySource = signer.startsWith(DID_KEY_PREFIX) ? 'did:key' : 'public key'
  const did = isDid ? signer : didFromPublicKey(key)
  return { did, key, isDid, ownSource, offlineNote: isDid ? OFFLINE_NOTE : OFFLINE_KEY_NOTE }
}

function offlineKey(s: Signer, note: string): ResolvedKey {
  const source: KeySource = s.isDid ? 'did:msig inception key (offline)' : s.ownSource
  return { did: s.did, publicKey: s.key, source, priorKeys: [], note }
}

/**
 * The current key the DID's signed key events prove, replayed here from the
 * DID itself (core/key-log-proof.ts): the server at `--server` may not be the
 * node (decision 0034's impostor on the node's port), so the key it names is
 * not taken on its word; at most it can leave later rotations out. A log that
 * does not replay, or that leads to another key than the one named, fails
 * closed (`KEL_INVALID`). A revocation the server claims is believed: it can
 * only make the signature fail.
 */
function provenKey(ctx: CliContext, s: Signer, view: KeyView): ResolvedKey {
  const unproven = `; not verified (--offline checks against the inception key)`
  if (!Array.isArray(view.keyEvents)) {
    const why = `the node at ${ctx.server} gives no signed key events of ${s.did} (older than this client?)`
    throw new MeshsigError('KEL_INVALID', why + unproven, { did: s.did })
  }
  let state: KeyState
  try {
    state = provenKeyState(s.did, view.keyEvents)
  } catch (err) {
    const why = `${err instanceof Error ? err.message : String(err)} (given by ${ctx.server})`
    throw new MeshsigError('KEL_INVALID', why + unproven, { did: s.did, ...(err as MeshsigError).details })
  }
  if (state.key !== view.publicKey) {
    const why = `the node at ${ctx.server} names a current key of ${s.did} that its signed key events do not lead to`
    throw new MeshsigError('KEL_INVALID', why + unproven, { did: s.did })
  }
  return {
    did: s.did,
    publicKey: fromB64(state.key, 'key', 32),
    source: 'key event log (node)',
    priorKeys: state.priorKeys,
    keySeq: state.seq,
    ...(view.revocation ? { revocation: view.revocation } : {}),
  }
}

/** No key event log on the node: the key the signer names, and a note saying so. */
function unknownToNode(ctx: CliContext, s: Signer): ResolvedKey {
  const note = s.isDid
    ? `the node at ${ctx.server} knows no key event log for this DID; checked against its inception key`
    : `the node at ${ctx.server} knows no key event log for ${s.did}, the DID this key names; checked against this key`
  const source: KeySource = s.isDid ? 'did:msig inception key (no key event log on the node)' : s.ownSource
  return { did: s.did, publicKey: s.key, source, priorKeys: [], note }
}

/**
 * Said of a key state from a server that was not made to prove it is the node
 * (decision 0055): it is that server's word, and a server that is not the node
 * can hide a rotation or a revocation.
 */
export function unprovenNote(ctx: CliContext): string {
  const why =
    tokenFor(ctx) === undefined
      ? 'no API token in $MESHSIG_HOME and no MESHSIG_TOKEN to prove it with'
      : 'a server on another host is not asked to'
  return (
    `the key state is the word of the server at ${ctx.server}, not proven to be the node (${why}): ` +
    'a server that is not the node can hide a rotation or a revocation'
  )
}

function withNote(key: ResolvedKey, note: string): ResolvedKey {
  return { ...key, note: key.note === undefined ? note : `${key.note}; ${note}` }
}

async function resolveThroughNode(ctx: CliContext, s: Signer): Promise<ResolvedKey> {
  // with a token at hand the server proves it is the node first, or verify stops (NODE_UNPROVEN, decision 0055)
  const client = apiClient(ctx, VERIFY_NODE_TIMEOUT_MS)
  let view: KeyView
  try {
    view = await client.keyState(s.did)
  } catch (err) {
    // only a server nobody could connect to lets verify fall back; any answer that is an error (rate limit,
    // forbidden, server error, malformed), a timeout or a broken-off connection fails the command: never fail open
    if (!noConnection(err)) throw nodeRefused(ctx, s.did, err)
    const why = (err as Error).message.replace(/; is it running\?.*$/, '')
    return offlineKey(s, `fell back offline: ${why}; ${s.offlineNote}`)
  }
  const key = view.known ? provenKey(ctx, s, view) : unknownToNode(ctx, s)
  return provesNode(ctx) ? key : withNote(key, unprovenNote(ctx))
}

async function resolveKey(ctx: CliContext, signer: string, offline: boolean): Promise<ResolvedKey> {
  const s = signerOf(signer)
  if (offline) return offlineKey(s, s.offlineNote)
  return resolveThroughNode(ctx, s)
}

function revokedResult(signer: string, key: ResolvedKey, base: Record<string, unknown>): CommandResult {
  const r = key.revocation!
  return {
    json: { ...base, valid: false, code: 'REVOKED', error: `REVOKED: ${signer} is revoked`, revocation: r },
    // the reason is the revoker's text: quoted on one line, so it cannot draw a verdict of its own
    human: block(`${FAIL} REVOKED`, [
      ['Signer', signer],
      ['Reason', quoted(String(r.reason))],
      ['Revoked at', oneLine(String(r.revokedAt))],
    ]),
    exitCode: 1,
  }
}

/** Verify `signature` over `message` ("-" = stdin bytes) under `signer`. */
export async function verifyCommand(
  ctx: CliContext,
  message: string,
  signature: string,
  signer: string,
  options: VerifyOptions = {},
): Promise<CommandResult> {
  publicKeyFromIdentifier(signer)
  const sig = fromB64(signature, 'signature', SIGNATURE_LENGTH)
  const bytes = await messageBytes(message, ctx.io)
  const key = await resolveKey(ctx, signer, options.offline === true)
  const json = {
    valid: false,
    signer,
    did: key.did,
    publicKey: toB64(key.publicKey),
    keySource: key.source,
    ...(key.keySeq !== undefined ? { keySeq: key.keySeq } : {}),
    ...(key.note !== undefined ? { note: key.note } : {}),
    verifiedAt: new Date(ctx.io.now()).toISOString(),
  }
  if (key.revocation !== undefined) return revokedResult(signer, key, json)
  const valid = verifySignature(bytes, sig, key.publicKey)
  const rows: Array<[string, string]> = [['Signer', signer]]
  if (key.did !== signer) rows.push(['DID', key.did])
  if (key.source === 'key event log (node)') rows.push(['Key', `current key (seq ${key.keySeq}) from ${ctx.server}`])
  if (key.note !== undefined) rows.push(['Note', key.note])
  if (valid) return { json: { ...json, valid }, human: block(`${OK} SIGNATURE VALID`, rows) }
  const rotated = key.priorKeys.some((k) => verifySignature(bytes, sig, fromB64(k, 'key', 32)))
  if (rotated) {
    rows.push(['Why', 'signed with a key this DID has rotated away from'])
    const error = 'INVALID signature: made with a rotated-out key of this DID'
    return {
      json: { ...json, error, code: 'ROTATED_KEY' },
      human: block(`${FAIL} SIGNATURE INVALID`, rows),
      exitCode: 1,
    }
  }
  return {
    json: { ...json, error: 'INVALID signature: it does not verify under this key', code: 'SIGNATURE_INVALID' },
    human: block(`${FAIL} SIGNATURE INVALID`, rows),
    exitCode: 1,
  }
}

/** Register `verify`. */
export function registerVerify(cli: CAC, rt: CliRuntime): void {
  cli
    .command('verify <message> <signature> <signer>', 'Verify a signature (signer: DID, did:key or b64 public key)')
    .option('--offline', 'Do not ask the node: check the key the signer names (a did:msig: its inception key)')
    .example('  meshsig verify "Deploy the new model" "HkyrXO..." "did:msig:3icq..."')
    .action((message: string, signature: string, signer: string, options: VerifyOptions) =>
      verifyCommand(rt.context(options), message, signature, signer, options),
    )
}
