/**
 * Create, load and save the node's identity in a meshsig home folder. Every
 * function takes the home folder as its first argument (see `resolveHome`).
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { didKeyFromPublicKey, peerIdFromPublicKey } from '../core/did.js'
import { MeshsigError } from '../core/errors.js'
import { generateKeyPair } from '../core/keys.js'
import { identityPath } from './home.js'
import {
  checkIdentityFile,
  newIdentityFile,
  parseIdentityFile,
  type Identity,
  type IdentityFile,
} from './identity-file.js'
import { ensurePrivateDir, readPrivateFile, writeFileAtomic } from './secure-fs.js'

/** Options of `createIdentity` and `replaceIdentity`. */
export interface CreateIdentityOptions {
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
 * exists (`replaceIdentity` replaces it).
 */
export function createIdentity(home: string, opts: CreateIdentityOptions = {}): Identity {
  const path = identityPath(home)
  if (identityExists(home)) throw alreadyExists(path)
  const { identity, write } = newIdentity(home, opts, false)
  try {
    write()
  } catch (err) {
    if (err instanceof MeshsigError && err.code === 'ALREADY_EXISTS') throw alreadyExists(path) // made meanwhile
    throw err
  }
  return identity
}

/**
 * Make a new identity and write it over the one in `home`, if any (its keys
 * are lost): `meshsig init --force`. Holds the home's node lock while it
 * writes, so a running node's identity is never replaced (decision 0042):
 * throws `ALREADY_EXISTS` while a node uses the home. Async because the lock
 * is SQLite's, loaded here only: `meshsig start` reads its identity before
 * the store's modules load (issue 13).
 */
export async function replaceIdentity(home: string, opts: CreateIdentityOptions = {}): Promise<Identity> {
  const { whileHomeIdle } = await import('../store/index.js')
  const { identity, write } = newIdentity(home, opts, true)
  try {
    whileHomeIdle(home, write)
  } catch (err) {
    if (err instanceof MeshsigError && err.code === 'ALREADY_EXISTS') throw inUse(home)
    throw err
  }
  return identity
}

/** A fresh identity for `home` and the write that puts it there (over an existing one when `overwrite`). */
function newIdentity(
  home: string,
  opts: CreateIdentityOptions,
  overwrite: boolean,
): { identity: Identity; write: () => void } {
  const path = identityPath(home)
  const random = opts.random ?? randomBytes
  const file = newIdentityFile(generateKeyPair(random), generateKeyPair(random), opts.now ?? Date.now())
  const identity = checkIdentityFile(file, path)
  ensurePrivateDir(home)
  const write = (): void => writeFileAtomic(path, serialize(file), { overwrite })
  return { identity, write }
}

/** `ALREADY_EXISTS` when a node runs on the home whose identity `replaceIdentity` would replace. */
function inUse(home: string): MeshsigError {
  return new MeshsigError(
    'ALREADY_EXISTS',
    `a meshsig node is running on ${home}: stop it before replacing its identity (decision 0042)`,
    { path: identityPath(home) },
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
