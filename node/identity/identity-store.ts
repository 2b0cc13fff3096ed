/**
 * Create, load and save the node's identity in a meshsig home folder. Every
 * function takes the home folder as its first argument (see `resolveHome`).
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { didKeyFromPublicKey, peerIdFromPublicKey } from '../core/did.js'
import { MeshsigError } from '../core/errors.js'
import { generateKeyPair } from '../core/keys.js'
import { whileHomeIdle } from '../store/index.js'
import { identityPath } from './home.js'
import {
  checkIdentityFile,
  newIdentityFile,
  parseIdentityFile,
  type Identity,
  type IdentityFile,
} from './identity-file.js'
import { ensurePrivateDir, readPrivateFile, writeFileAtomic } from './secure-fs.js'

/** Options of `createIdentity`. */
export interface CreateIdentityOptions {
  /** Replace an existing identity (its keys are lost). Default false. */
  readonly force?: boolean
  /** Creation time, ms since the epoch (default: now). */
  readonly now?: number
  /** Source of key seeds (default: the OS CSPRNG). */
  readonly random?: (n: number) => Uint8Array
}

/** What may be shown about an identity: never a private key. */
export interface PublicIdentity {
  readonly did: string
  readonly didKey: string
  readonly peerId: string
  readonly publicKey: string
  readonly createdAt: string
}

/** True when `home` holds an identity file (readable or not). */
export function identityExists(home: string): boolean {
  return existsSync(identityPath(home))
}

/**
 * Make a new identity (current key plus committed next key) and write it to
 * `home/identity.json` (0600, folder 0700). Throws `ALREADY_EXISTS` when one
 * exists and `force` is not set.
 */
export function createIdentity(home: string, opts: CreateIdentityOptions = {}): Identity {
  const path = identityPath(home)
  if (!opts.force && identityExists(home)) throw alreadyExists(path)
  const random = opts.random ?? randomBytes
  const file = newIdentityFile(generateKeyPair(random), generateKeyPair(random), opts.now ?? Date.now())
  const identity = checkIdentityFile(file, path)
  ensurePrivateDir(home)
  const write = (): void => writeFileAtomic(path, serialize(file), { overwrite: opts.force ?? false })
  try {
    if (opts.force === true) whileHomeIdle(home, write)
    else write()
  } catch (err) {
    if (err instanceof MeshsigError && err.code === 'ALREADY_EXISTS') throw inUseOrExists(path, home, opts)
    throw err
  }
  return identity
}

/** `ALREADY_EXISTS` as the caller meets it: a node running on the home (with `force`), or an identity there. */
function inUseOrExists(path: string, home: string, opts: CreateIdentityOptions): MeshsigError {
  if (opts.force !== true) return alreadyExists(path)
  return new MeshsigError(
    'ALREADY_EXISTS',
    `a meshsig node is running on ${home}: stop it before replacing its identity (decision 0042)`,
    { path },
  )
}

function alreadyExists(path: string): MeshsigError {
  return new MeshsigError(
    'ALREADY_EXISTS',
    `an identity already exists at ${path}; use --force to replace it (its keys will be lost)`,
    { path },
  )
}

/**
 * Read and check the identity in `home`. Throws `NO_IDENTITY` when there is
 * none, `INSECURE_KEY_FILE` when other users can read it, `MALFORMED` when it
 * is corrupt.
 */
export function loadIdentity(home: string): Identity {
  const path = identityPath(home)
  const text = readPrivateFile(path, 'identity file')
  if (text === undefined) {
    throw new MeshsigError('NO_IDENTITY', `no identity in ${home}; run meshsig init`, { path })
  }
  return checkIdentityFile(parseIdentityFile(text, path), path)
}

/**
 * Replace the identity file with `file` after checking it (used by key
 * rotation, which keeps the DID and appends to `keyLog`).
 */
export function saveIdentity(home: string, file: IdentityFile): Identity {
  const path = identityPath(home)
  const identity = checkIdentityFile(file, path)
  ensurePrivateDir(home)
  writeFileAtomic(path, serialize(file), { overwrite: true })
  return identity
}

/** The public face of an identity: DID, did:key and PeerId of the current key, public key, creation time. */
export function publicIdentity(identity: Identity): PublicIdentity {
  const publicKey = identity.keyPair.publicKey
  return {
    did: identity.did,
    didKey: didKeyFromPublicKey(publicKey),
    peerId: peerIdFromPublicKey(publicKey),
    publicKey: identity.file.publicKey,
    createdAt: identity.file.createdAt,
  }
}

function serialize(file: IdentityFile): string {
  return JSON.stringify(file, null, 2) + '\n'
}
