/**
 * What `rotate-key` and `revoke` need besides their options: private keys
 * given as b64 seeds (or "-": read from stdin, so they stay out of the
 * process list and the shell history), a DID's key state from the node, and
 * a quick look at whether a node answers at `--server`.
 */
import { MeshsigClient, type ApiHealth, type KeyView } from '../api/client.js'
import { MeshsigError } from '../node/core/errors.js'
import type { KeyState } from '../node/core/kel.js'
import { keyPairFromB64, type KeyPair } from '../node/core/keys.js'
import type { CliContext, CliIo } from './context.js'

/** How long `--server` gets to answer a probe before the command treats it as absent (ms). */
export const NODE_PROBE_TIMEOUT_MS = 1000

/** The option value that means "read this key from stdin". */
export const STDIN_KEY = '-'

function seedOf(value: string, option: string): KeyPair {
  try {
    return keyPairFromB64(value)
  } catch {
    throw new MeshsigError('INVALID_KEY', `${option} must be the base64 of a 32-byte Ed25519 seed`, {
      field: option,
    })
  }
}

/**
 * Key pairs from option values, in order: a b64 seed, "-" (the next
 * whitespace-separated token of stdin), or undefined. Throws `INVALID_KEY`.
 */
export async function readKeyOptions(
  io: CliIo,
  options: ReadonlyArray<readonly [name: string, value: string | undefined]>,
): Promise<(KeyPair | undefined)[]> {
  const fromStdin = options.some(([, v]) => v === STDIN_KEY)
  const tokens = fromStdin
    ? Buffer.from(await io.readStdin())
        .toString('utf8')
        .split(/\s+/)
        .filter(Boolean)
    : []
  return options.map(([name, value]) => {
    if (value === undefined) return undefined
    if (value !== STDIN_KEY) return seedOf(value, name)
    const token = tokens.shift()
    if (token === undefined) throw new MeshsigError('INVALID_INPUT', `${name} -: no key left on stdin`)
    return seedOf(token, name)
  })
}

/** The log state a rotation or revocation of `view.did` builds on; throws when the node knows no log or it is revoked. */
export function keyStateOf(view: KeyView): KeyState {
  if (!view.known || view.keySeq === null || view.lastId === null) {
    throw new MeshsigError('UNKNOWN_SIGNER', `the node knows no key event log for ${view.did}`, { did: view.did })
  }
  if (view.revoked) throw new MeshsigError('REVOKED', `DID is revoked: ${view.did}`, { did: view.did })
  return {
    did: view.did,
    seq: view.keySeq,
    lastId: view.lastId,
    key: view.publicKey,
    next: view.next,
    priorKeys: view.priorKeys,
    revoked: null,
  }
}

/** A client for a quick look at `--server`: short timeout, no token (reads only). */
export function probeClient(ctx: CliContext): MeshsigClient {
  return new MeshsigClient({ server: ctx.server, timeoutMs: NODE_PROBE_TIMEOUT_MS })
}

/** The node's `/health`, or the reason no meshsig node answered. */
export async function probeNode(ctx: CliContext): Promise<{ health: ApiHealth } | { unreachable: string }> {
  try {
    return { health: await probeClient(ctx).health() }
  } catch (err) {
    return { unreachable: err instanceof Error ? err.message : String(err) }
  }
}
