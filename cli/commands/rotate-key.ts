/**
 * `meshsig rotate-key`: rotate a key without changing the DID (docs/protocol.md §4).
 *
 * - No `--did` (or the DID of the home's identity): the identity in
 *   $MESHSIG_HOME. The rotation reveals the committed next key and commits to
 *   a fresh one; it is checked with the core's log rules and written to
 *   identity.json first (atomically), then handed to the node at `--server`
 *   when that node has this identity, which switches to the new key at once.
 *   With no node, the node publishes it when it next starts. The libp2p
 *   PeerId follows the new key: the running node moves its mesh to it before
 *   it answers (docs/protocol.md §2), a stopped one at its next start.
 * - `--did <did>`: an agent hosted by the node, through the API. Custodied
 *   agents need nothing more (the node signs); `--private-key` alone, for an
 *   agent the node hosts that committed to a next key, signs a rotation
 *   request here (core/rotation-request.ts: proof of the key, decision 0047)
 *   and the node rotates to the next key it keeps; otherwise `--private-key`
 *   and `--next-private-key` sign the rotation here. Either way only a signed
 *   statement travels, never a private key: the server may not be the node
 *   (decision 0034). Keys come from stdin ("-") or from 0600 files
 *   (`--private-key-file`, `--next-private-key-file`), never from the
 *   command line.
 */
import type { CAC } from 'cac'
import type { ApiRotated, KeyView, MeshsigClient } from '../../api/client.js'
import { didKeyFromPublicKey, peerIdFromPublicKey } from '../../node/core/did.js'
import { fromB64, toB64 } from '../../node/core/encoding.js'
import { isMeshsigError, MeshsigError } from '../../node/core/errors.js'
import { createRegistration, createRotation } from '../../node/core/factory.js'
import { parseEnvelope, verifyEnvelopeSignature, type Envelope, type RegEnvelope } from '../../node/core/envelope.js'
import type { KeyState } from '../../node/core/kel.js'
import { followingTs } from '../../node/core/registration-order.js'
import { createRotationRequest, type RotationRequest } from '../../node/core/rotation-request.js'
import { generateKeyPair, keyCommitment, type KeyPair } from '../../node/core/keys.js'
import { identityExists, loadIdentity, rotateIdentity, type Identity } from '../../node/identity/index.js'
import { apiClient, proofClient } from '../api-client.js'
import type { CliContext, CliRuntime, GlobalOptions } from '../context.js'
import { didArgument, keyStateOf, probeNode, readKeyOptions } from '../key-input.js'
import { FAIL, OK, block, type CommandResult } from '../output.js'

/** Options of `rotate-key`. */
export interface RotateKeyOptions extends GlobalOptions {
  readonly did?: string
  /** "-": read from stdin (a literal seed is refused). */
  readonly privateKey?: string
  /** A file holding the b64 seed, readable by its owner only. */
  readonly privateKeyFile?: string
  readonly nextPrivateKey?: string
  readonly nextPrivateKeyFile?: string
}

/** What became of the node when the home identity rotated. */
type NodeOutcome =
  | { readonly status: 'updated'; readonly note: string; readonly moved: boolean }
  | { readonly status: 'pending'; readonly note: string }
  | { readonly status: 'refused'; readonly note: string; readonly code: string }

/** Refuse before writing anything when the node's log of this DID is not where the file says it is. */
async function checkNodeAgrees(client: MeshsigClient, identity: Identity): Promise<void> {
  const view = await client.keyState(identity.did)
  if (view.known && view.lastId !== identity.keyState.lastId) {
    throw new MeshsigError(
      'KEL_INVALID',
      `the node's key event log of ${identity.did} (seq ${view.keySeq}) differs from identity.json (seq ${identity.keyState.seq}); nothing was changed`,
      { did: identity.did },
    )
  }
}

async function handOver(ctx: CliContext, rotated: Identity, envelope: unknown): Promise<NodeOutcome> {
  try {
    const client = apiClient(ctx)
    await client.rotateKey({ did: rotated.did, envelope })
    // its mesh moves to the new PeerId before the answer; a move that failed is retried by the node (protocol.md §2)
    const moved =
      (await client.health().catch(() => undefined))?.peerId === peerIdFromPublicKey(rotated.keyPair.publicKey)
    const mesh = moved
      ? 'and its mesh runs under the new PeerId'
      : 'but its mesh has not moved to the new PeerId yet (it retries; see its log)'
    return { status: 'updated', note: `the node at ${ctx.server} signs with the new key now, ${mesh}`, moved }
  } catch (err) {
    const code = isMeshsigError(err) ? err.code : 'INTERNAL'
    const why = err instanceof Error ? err.message : String(err)
    if (code === 'UNREACHABLE' || code === 'FORBIDDEN') {
      return { status: 'pending', note: `the node at ${ctx.server} did not take it (${why}); restart it to publish` }
    }
    if (code === 'TIMEOUT') {
      // it may have taken it; identity.json holds the rotation either way, and a start publishes it
      return { status: 'pending', note: `${why}; it may have taken it, and publishes it at its next start anyway` }
    }
    return { status: 'refused', note: `the node at ${ctx.server} refused it: ${why}`, code }
  }
}

function peerIdNote(outcome: NodeOutcome): string {
  if (outcome.status !== 'updated') return "from the node's next start"
  return outcome.moved ? 'the node runs under it now' : 'the node moves to it as soon as it can'
}

/** Rotate the identity in the home folder and tell the node that runs it. */
export async function rotateHomeIdentity(ctx: CliContext): Promise<CommandResult> {
  const current = loadIdentity(ctx.home)
  const probe = await probeNode(ctx)
  const same = 'health' in probe && probe.health.did === current.did
  if (same) await checkNodeAgrees(apiClient(ctx), current)
  const { identity, rotation } = rotateIdentity(ctx.home, { now: ctx.io.now() })
  const outcome: NodeOutcome = same
    ? await handOver(ctx, identity, rotation)
    : {
        status: 'pending',
        note:
          'health' in probe
            ? `the node at ${ctx.server} has another identity; the rotation is published when this identity's node starts`
            : `no node answered at ${ctx.server}; the rotation is published when the node starts`,
      }
  const key = identity.keyPair.publicKey
  const json = {
    rotated: true,
    did: identity.did,
    publicKey: toB64(key),
    previousPublicKey: current.file.publicKey,
    keySeq: rotation.seq,
    didKey: didKeyFromPublicKey(key),
    peerId: peerIdFromPublicKey(key),
    node: { server: ctx.server, ...outcome },
  }
  const rows: Array<[string, string]> = [
    ['DID', `${identity.did} (unchanged)`],
    ['Public key', json.publicKey],
    ['Key seq', String(rotation.seq)],
    ['Node', outcome.note],
    ['PeerId', `${json.peerId} (${peerIdNote(outcome)})`],
  ]
  if (outcome.status === 'refused') {
    const human = block(`${FAIL} Key rotated in identity.json, but ${outcome.note}`, rows)
    return { json: { ...json, error: outcome.note, code: outcome.code }, human, exitCode: 1 }
  }
  return { json, human: block(`${OK} Key rotated`, rows) }
}

interface LocalKeys {
  readonly current: KeyPair
  readonly next: KeyPair | undefined
}

/** Sign the agent's rotation here with its keys; returns the envelope and any key made here. */
async function signedRotation(ctx: CliContext, view: KeyView, keys: LocalKeys) {
  const state = keyStateOf(view)
  const did = state.did
  if (toB64(keys.current.publicKey) !== state.key) {
    throw new MeshsigError('KEY_MISMATCH', `--private-key is not the current key of ${did}`, { did })
  }
  if (keys.next === undefined && state.next !== null) {
    throw new MeshsigError('PRE_ROTATION_MISMATCH', `${did} committed to a next key: give --next-private-key`)
  }
  const newKey = keys.next ?? generateKeyPair()
  if (state.next !== null && keyCommitment(newKey.publicKey) !== state.next) {
    throw new MeshsigError('PRE_ROTATION_MISMATCH', `--next-private-key is not the key ${did} committed to`)
  }
  const following = generateKeyPair()
  const envelope = createRotation(state, keys.current, newKey, ctx.io.now(), following)
  const registration = reRegistration(view, state, newKey, ctx.io.now())
  return {
    envelope,
    ...(registration !== undefined ? { registration } : {}),
    nextPrivateKey: toB64(following.seed),
    ...(keys.next === undefined ? { privateKey: toB64(newKey.seed) } : {}),
  }
}

/**
 * The registration the node holds of the DID (`GET /keys/:did`), signed again here with the new key: same
 * name, capabilities, controller and PeerId, dated now (`followingTs`, decision 0070: it replaces the held one
 * whatever that one's date, being the new key's). Only one the DID's current key signed, which the caller holds: the server
 * may not be the node, and a registration it made up, or one a retired key signed (an old one replayed, or a
 * thief's of a key rotated away), would name a controller of its choosing (review 102 F1). None when there
 * is no such registration; the rotation then goes alone.
 */
function reRegistration(view: KeyView, state: KeyState, newKey: KeyPair, now: number): RegEnvelope | undefined {
  const held = wellFormed(view.registration)
  if (held === undefined || held.type !== 'reg' || held.did !== state.did) return undefined
  if (!signedBy(held, state.key)) return undefined
  const { did, name, capabilities, controller, peerId } = held
  return createRegistration({ did, name, capabilities, controller, peerId, ts: followingTs(held.ts, now) }, newKey)
}

/** `input` as an envelope the node's rules would parse (no stray fields, a DID-shaped controller), or undefined. */
function wellFormed(input: unknown): Envelope | undefined {
  if (input === null || input === undefined) return undefined
  try {
    return parseEnvelope(input)
  } catch {
    return undefined
  }
}

function signedBy(reg: RegEnvelope, key: string): boolean {
  try {
    verifyEnvelopeSignature(reg, fromB64(key, 'key', 32))
    return true
  } catch {
    return false
  }
}

/** What this command signed here besides the rotation: keys it made, and whether it signed the registration again. */
interface MadeHere {
  readonly privateKey?: string
  readonly nextPrivateKey?: string
  /** Signed here: the registration that went with the rotation (none when the node held none a key of the DID signed). */
  readonly registration?: RegEnvelope
}

/** The note on the agent's registration after a rotation signed here. */
const NO_REGISTRATION =
  "the node holds no registration signed by a key of this DID: register again under the new key, or nodes that meet the agent later cannot check its controller's revocations"

function agentResult(r: ApiRotated, made: MadeHere): CommandResult {
  const privateKey = made.privateKey ?? r.privateKey
  const nextPrivateKey = made.nextPrivateKey ?? r.nextPrivateKey
  const rows: Array<[string, string]> = [
    ['DID', `${r.did} (unchanged)`],
    ['Public key', r.publicKey],
    ['Key seq', String(r.keySeq)],
    ['Custody', r.custodied ? 'the node keeps the new keys' : 'you keep the keys'],
  ]
  const signedHere = 'nextPrivateKey' in made
  const again =
    made.registration && `signed again with the new key, as held (controller ${made.registration.controller})`
  if (signedHere) rows.push(['Registration', again ?? NO_REGISTRATION])
  if (privateKey !== undefined) rows.push(['Private key', `${privateKey} (shown once)`])
  if (nextPrivateKey !== undefined)
    rows.push(['Next private key', `${nextPrivateKey} (shown once: keep it to rotate again)`])
  const json = {
    rotated: true,
    did: r.did,
    publicKey: r.publicKey,
    previousPublicKey: r.previousPublicKey,
    keySeq: r.keySeq,
    custodied: r.custodied,
    rotatedAt: r.rotatedAt,
    ...(signedHere ? { registration: made.registration !== undefined } : {}),
    ...(privateKey !== undefined ? { privateKey } : {}),
    ...(nextPrivateKey !== undefined ? { nextPrivateKey } : {}),
  }
  return { json, human: block(`${OK} Key rotated`, rows) }
}

/** Rotate an agent hosted by the node at `--server`. */
export async function rotateAgentKey(ctx: CliContext, did: string, options: RotateKeyOptions): Promise<CommandResult> {
  const [current, next] = await readKeyOptions(ctx.io, [
    { name: '--private-key', value: options.privateKey, file: options.privateKeyFile },
    { name: '--next-private-key', value: options.nextPrivateKey, file: options.nextPrivateKeyFile },
  ])
  if (current === undefined) {
    if (next !== undefined) throw new MeshsigError('INVALID_INPUT', '--next-private-key needs --private-key')
    return agentResult(await apiClient(ctx).rotateKey({ did }), {})
  }
  const view = await apiClient(ctx).keyState(did)
  if (next === undefined && (await hostedWithCommitment(ctx, view))) {
    // the node that hosts it may keep the key committed to next (an agent it made): a request signed by the
    // current key proves it and the key stays here (decision 0047); a node that does not keep the next key
    // changes nothing and the next key is asked for
    const r = await (
      await proofClient(ctx)
    )
      .rotateKey({ did, keyProof: await rotationRequest(ctx, view, current) })
      .catch((err: unknown) => {
        if (!isMeshsigError(err) || err.code !== 'PRE_ROTATION_MISMATCH') throw err
        throw new MeshsigError('PRE_ROTATION_MISMATCH', `${did} committed to a next key: give --next-private-key`)
      })
    return agentResult(r, {})
  }
  const made = await signedRotation(ctx, view, { current, next })
  const { envelope, registration } = made
  return agentResult(await apiClient(ctx).rotateKey({ did, envelope, registration }), made)
}

/**
 * A rotation request for the DID of `view`, signed here by its current key:
 * it names the node at `--server` (its DID from `/health`) and the DID's last
 * key event, so it is good for one rotation on that node (decision 0047).
 */
async function rotationRequest(ctx: CliContext, view: KeyView, current: KeyPair): Promise<RotationRequest> {
  if (toB64(current.publicKey) !== view.publicKey) {
    throw new MeshsigError('KEY_MISMATCH', `--private-key is not the current key of ${view.did}`, { did: view.did })
  }
  const node = (await apiClient(ctx).health()).did
  return createRotationRequest({ did: view.did, prev: view.lastId ?? '', node, ts: ctx.io.now() }, current)
}

/** True when the DID of `view` committed to a next key and is hosted by the node at `--server`. */
async function hostedWithCommitment(ctx: CliContext, view: KeyView): Promise<boolean> {
  if (!view.known || view.next === null || view.next === undefined) return false
  return (
    (
      await apiClient(ctx)
        .agent(view.did)
        .catch(() => undefined)
    )?.origin === 'local'
  )
}

function homeDid(ctx: CliContext): string | undefined {
  try {
    return identityExists(ctx.home) ? loadIdentity(ctx.home).did : undefined
  } catch {
    return undefined
  }
}

/** `rotate-key`: the home identity, or with `--did` a hosted agent. */
export async function rotateKeyCommand(ctx: CliContext, options: RotateKeyOptions): Promise<CommandResult> {
  const did = options.did === undefined ? undefined : await didArgument(ctx, String(options.did), '--did')
  if (did === undefined || did === homeDid(ctx)) {
    const keys = [options.privateKey, options.privateKeyFile, options.nextPrivateKey, options.nextPrivateKeyFile]
    if (keys.some((k) => k !== undefined)) {
      throw new MeshsigError('INVALID_INPUT', "the node identity's keys are in identity.json: drop --private-key")
    }
    return rotateHomeIdentity(ctx)
  }
  return rotateAgentKey(ctx, did, options)
}

/** Register `rotate-key` (alias `rotate`, the seed's shape). */
export function registerRotateKey(cli: CAC, rt: CliRuntime): void {
  cli
    .command('rotate-key', 'Rotate a key; the DID stays (your identity, or --did for an agent on the node)')
    .alias('rotate')
    .option('--did <did>', 'Rotate an agent hosted by the node instead of your identity')
    .option('--private-key <->', "The agent's current private key: - reads it (b64) from stdin")
    .option('--private-key-file <path>', "The agent's current private key from a file only you can read")
    .option('--next-private-key <->', 'The next key the agent committed to: - reads it from stdin')
    .option('--next-private-key-file <path>', 'The next key the agent committed to, from a file only you can read')
    .example('  meshsig rotate-key')
    .example('  meshsig rotate-key --did did:msig:3icq...')
    .action((options: RotateKeyOptions) => rotateKeyCommand(rt.context(options), options))
}
