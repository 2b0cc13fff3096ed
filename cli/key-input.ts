/**
 * What `rotate-key` and `revoke` need besides their options: private keys
 * (never on the command line, where other users see them in the process
 * list and they stay in shell history: "-" reads stdin, `--…-file PATH`
 * reads a file only its owner can read), a DID's key state from the node,
 * and a quick look at whether a node answers at `--server`.
 */
import { MeshsigClient, type ApiHealth, type KeyView } from '../api/client.js'
import { isMeshsigError, MeshsigError } from '../node/core/errors.js'
import { toMsigDid } from '../node/core/did.js'
import type { KeyState } from '../node/core/kel.js'
import { keyPairFromB64, type KeyPair } from '../node/core/keys.js'
import { readPrivateFile } from '../node/identity/index.js'
import { apiClient, provesNode } from './api-client.js'
import type { CliContext, CliIo } from './context.js'

/** How long `--server` gets to answer a probe before the command treats it as absent (ms). */
export const NODE_PROBE_TIMEOUT_MS = 1000

/** The option value that means "read this key from stdin". */
export const STDIN_KEY = '-'

/** One private-key option: `--name -` (stdin) or `--name-file PATH`; a literal seed is refused. */
export interface KeyOption {
  /** The option, e.g. `--private-key`; its file form is the same name with `-file`. */
  readonly name: string
  /** Value of `--name`: only "-" is accepted. */
  readonly value: unknown
  /** Value of `--name-file`: a path. */
  readonly file: unknown
}

function seedOf(value: string, option: string): KeyPair {
  try {
    return keyPairFromB64(value)
  } catch {
    throw new MeshsigError('INVALID_KEY', `${option} must be the base64 of a 32-byte Ed25519 seed`, {
      field: option,
    })
  }
}

/** Refuse a seed written on the command line; say how to pass it instead. */
function refuseLiteral(name: string): never {
  throw new MeshsigError(
    'INVALID_INPUT',
    `${name} does not take a key on the command line (other users can see it): use ${name} - and write the key to stdin, or ${name}-file PATH (mode 0600)`,
    { field: name },
  )
}

function fromFile(name: string, path: string): KeyPair {
  const text = readPrivateFile(path, `${name}-file`)
  if (text === undefined) throw new MeshsigError('NOT_FOUND', `${name}-file ${path} does not exist`, { path })
  return seedOf(text.trim(), `${name}-file`)
}

function present(value: unknown): value is string | number | true {
  return value !== undefined && value !== null && value !== false
}

function checkOption(o: KeyOption): void {
  if (present(o.value) && present(o.file)) {
    throw new MeshsigError('INVALID_INPUT', `give ${o.name} - or ${o.name}-file, not both`, { field: o.name })
  }
  if (present(o.value) && o.value !== STDIN_KEY) refuseLiteral(o.name)
  if (o.file === true || o.file === '') throw new MeshsigError('INVALID_INPUT', `${o.name}-file needs a PATH`)
}

/**
 * Key pairs from private-key options, in order: "-" takes the next
 * whitespace-separated token of stdin, `--…-file` reads the file (refused
 * with `INSECURE_KEY_FILE` when group or others can read it), neither gives
 * undefined. A literal seed is refused with `INVALID_INPUT` before anything
 * is read; a bad key is `INVALID_KEY`.
 */
export async function readKeyOptions(io: CliIo, options: readonly KeyOption[]): Promise<(KeyPair | undefined)[]> {
  for (const o of options) checkOption(o)
  const fromStdin = options.some((o) => o.value === STDIN_KEY)
  const tokens = fromStdin
    ? Buffer.from(await io.readStdin())
        .toString('utf8')
        .split(/\s+/)
        .filter(Boolean)
    : []
  return options.map((o) => {
    if (present(o.file)) return fromFile(o.name, String(o.file))
    if (o.value !== STDIN_KEY) return undefined
    const token = tokens.shift()
    if (token === undefined) throw new MeshsigError('INVALID_INPUT', `${o.name} -: no key left on stdin`)
    return seedOf(token, o.name)
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
    // a --server that is no usable node URL is bad input, not an absent node (review 107: a user:password@ URL
    // was printed as "no node answered at …" and the rotation went ahead)
    if (isMeshsigError(err) && err.code === 'INVALID_INPUT') throw err
    return { unreachable: err instanceof Error ? err.message : String(err) }
  }
}

/**
 * A DID argument as a did:msig. A bare b64 key looks exactly like a private
 * key: it is taken only when the node knows the DID it names (asked with the
 * key as given, so no DID derived from a pasted secret is printed or sent;
 * and, with a token at hand, only of a server that proved it is the node),
 * else `INVALID_DID` without repeating it (docs/protocol.md §2).
 */
export async function didArgument(ctx: CliContext, identifier: string, what = 'the DID'): Promise<string> {
  if (identifier.startsWith('did:')) return toMsigDid(identifier)
  // with a token at hand the server proves it is the node before the key goes to it (NODE_UNPROVEN otherwise)
  const client = provesNode(ctx) ? apiClient(ctx, NODE_PROBE_TIMEOUT_MS) : probeClient(ctx)
  const view = await client.keyState(identifier).catch((err: unknown) => {
    if (isMeshsigError(err) && err.code === 'NODE_UNPROVEN') throw err
    return undefined
  })
  if (view?.known === true) return view.did
  throw new MeshsigError(
    'INVALID_DID',
    `${what} is a bare key that names no DID the node at ${ctx.server} knows (a private key looks the same): give it as did:msig:…`,
  )
}
