/**
 * `meshsig verify <message> <signature> <signer>`: check a plain signature.
 * The signer is a did:msig (offline: its inception key), a did:key or a b64
 * public key. Exit 0 valid, 1 invalid, 2 malformed input.
 */
import type { CAC } from 'cac'
import { DID_KEY_PREFIX, DID_MSIG_PREFIX, publicKeyFromIdentifier } from '../../node/core/did.js'
import { fromB64, toB64 } from '../../node/core/encoding.js'
import { SIGNATURE_LENGTH, verifySignature } from '../../node/core/keys.js'
import type { CliContext, CliRuntime, GlobalOptions } from '../context.js'
import { messageBytes } from '../message.js'
import { FAIL, OK, block, type CommandResult } from '../output.js'

/** Where the verifying key came from. */
export type KeySource = 'did:msig inception key (offline)' | 'did:key' | 'public key'

/** Note shown when a did:msig was checked against its inception key. */
export const OFFLINE_NOTE =
  'checked offline against the DID’s inception key; after a key rotation only a node knows the current key'

function keySourceOf(signer: string): KeySource {
  if (signer.startsWith(DID_MSIG_PREFIX)) return 'did:msig inception key (offline)'
  if (signer.startsWith(DID_KEY_PREFIX)) return 'did:key'
  return 'public key'
}

/** Verify `signature` over `message` ("-" = stdin bytes) under `signer`. */
export async function verifyCommand(
  ctx: CliContext,
  message: string,
  signature: string,
  signer: string,
): Promise<CommandResult> {
  const publicKey = publicKeyFromIdentifier(signer)
  const sig = fromB64(signature, 'signature', SIGNATURE_LENGTH)
  const valid = verifySignature(await messageBytes(message, ctx.io), sig, publicKey)
  const keySource = keySourceOf(signer)
  const note = keySource === 'did:msig inception key (offline)' ? OFFLINE_NOTE : undefined
  const json = {
    valid,
    signer,
    publicKey: toB64(publicKey),
    keySource,
    verifiedAt: new Date(ctx.io.now()).toISOString(),
  }
  const rows: Array<[string, string]> = [['Signer', signer]]
  if (note !== undefined) rows.push(['Note', note])
  if (valid) return { json, human: block(`${OK} SIGNATURE VALID`, rows) }
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
    .example('  meshsig verify "Deploy the new model" "HkyrXO..." "did:msig:3icq..."')
    .action((message: string, signature: string, signer: string, options: GlobalOptions) =>
      verifyCommand(rt.context(options), message, signature, signer),
    )
}
