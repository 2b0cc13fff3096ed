/**
 * The node's log key and witness key, and its checkpoint anchor, in
 * `$MESHSIG_HOME` (docs/audit.md, "The note fields"):
 *
 * - `log.key`, `witness.key` (0600): b64 32-byte Ed25519 seeds, each used
 *   for nothing else: the log key signs the node's checkpoint notes, the
 *   witness key its cosignatures of peers' checkpoints. Made at init or the
 *   first start, and made anew when the identity key rotates (decision 0084):
 *   a thief who copied the home keeps no log key the owner's binding names.
 * - `log-keys.identity` (0600): the b64 identity key the two were made under,
 *   written last, after both key files: the commit point of a replacement. A
 *   crash before it leaves the old name, and the next start replaces both again.
 * - `checkpoint-anchor.json` (0600): the last checkpoint the node signed
 *   (`{size, root}`), kept outside the database so that a database edited by
 *   someone with write access (rows deleted, log truncated) is caught: the
 *   node refuses to sign a checkpoint not consistent with it (issue 9).
 */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { isMeshsigError, MeshsigError } from '../core/errors.js'
import { keyPairFromSeed, type KeyPair } from '../core/keys.js'
import { ensurePrivateDir, readPrivateFile, writeFileAtomic } from './secure-fs.js'

/** File names inside the home folder. */
export const LOG_KEY_FILE = 'log.key'
/** The witness key file. */
export const WITNESS_KEY_FILE = 'witness.key'
/** The file naming the identity key the log and witness keys were made under. */
export const LOG_KEYS_IDENTITY_FILE = 'log-keys.identity'
/** The checkpoint anchor file. */
export const ANCHOR_FILE = 'checkpoint-anchor.json'

const SEED_RE = /^[A-Za-z0-9+/]{43}=$/

function ensureSeedFile(home: string, file: string, random: (n: number) => Uint8Array): KeyPair {
  const path = join(home, file)
  const read = (): KeyPair | undefined => {
    const text = readPrivateFile(path, `${file} key file`)
    if (text === undefined) return undefined
    if (!SEED_RE.test(text.trim())) throw new MeshsigError('MALFORMED', `key file ${path} is corrupt`, { path })
    return keyPairFromSeed(new Uint8Array(Buffer.from(text.trim(), 'base64')))
  }
  const existing = read()
  if (existing !== undefined) return existing
  ensurePrivateDir(home)
  try {
    writeFileAtomic(path, Buffer.from(random(32)).toString('base64') + '\n', { overwrite: false })
  } catch (err) {
    if (!isMeshsigError(err) || err.code !== 'ALREADY_EXISTS') throw err
  }
  return read()!
}

/** The node's log and witness key pairs. */
export interface LogKeyPairs {
  readonly log: KeyPair
  readonly witness: KeyPair
}

/** The node's log and witness key pairs as the home holds them, made first when missing. */
export function ensureLogKeys(home: string, random: (n: number) => Uint8Array = randomBytes): LogKeyPairs {
  return { log: ensureSeedFile(home, LOG_KEY_FILE, random), witness: ensureSeedFile(home, WITNESS_KEY_FILE, random) }
}

/** The identity key the home's log keys were made under (b64); undefined in a home from before decision 0084. */
function readKeysIdentity(home: string): string | undefined {
  const path = join(home, LOG_KEYS_IDENTITY_FILE)
  const text = readPrivateFile(path, 'log keys identity file')
  if (text === undefined) return undefined
  if (!SEED_RE.test(text.trim()))
    throw new MeshsigError('MALFORMED', `log keys identity file ${path} is corrupt`, { path })
  return text.trim()
}

/** What `logKeysFor` is told of the identity the log keys serve. */
export interface LogKeysIdentity {
  /** True when the identity's key log has a rotation (prior keys): see `logKeysFor`. */
  readonly rotated?: boolean
  /** Source of the new seeds (tests). */
  readonly random?: (n: number) => Uint8Array
}

/**
 * The log and witness key pairs for the identity key `identityKey`
 * (decision 0084): the home's, when they were made under it; otherwise two
 * new ones, written atomically (0600) over the old files, and only then
 * `log-keys.identity` naming `identityKey`. A home from before 0084 names
 * none: its keys are taken as made under `identityKey` unless the identity
 * has rotated (`rotated`), since then they may be the keys of a home copied
 * before the rotation (review 122, L2), and new ones are made. A crash
 * between the steps leaves the old name, so the next call makes both anew:
 * no binding is ever made for keys that are not in the home. Throws
 * `MALFORMED` for a corrupt file, before anything is replaced.
 */
export function logKeysFor(home: string, identityKey: Uint8Array, opts: LogKeysIdentity = {}): LogKeyPairs {
  const random = opts.random ?? randomBytes
  const identity = Buffer.from(identityKey).toString('base64')
  const madeUnder = readKeysIdentity(home)
  if (madeUnder === identity || (madeUnder === undefined && opts.rotated !== true)) {
    const keys = ensureLogKeys(home, random)
    if (madeUnder === undefined) writeFileAtomic(join(home, LOG_KEYS_IDENTITY_FILE), identity + '\n')
    return keys
  }
  ensurePrivateDir(home)
  for (const file of [LOG_KEY_FILE, WITNESS_KEY_FILE]) {
    writeFileAtomic(join(home, file), Buffer.from(random(32)).toString('base64') + '\n')
  }
  const keys = ensureLogKeys(home, random)
  writeFileAtomic(join(home, LOG_KEYS_IDENTITY_FILE), identity + '\n')
  return keys
}

/** The last checkpoint the node signed, as the anchor file keeps it. */
export interface CheckpointAnchor {
  readonly size: number
  /** b64 root. */
  readonly root: string
}

/** Read the anchor; undefined when the node never signed a checkpoint here. */
export function readCheckpointAnchor(home: string): CheckpointAnchor | undefined {
  const path = join(home, ANCHOR_FILE)
  const text = readPrivateFile(path, 'checkpoint anchor')
  if (text === undefined) return undefined
  try {
    const a = JSON.parse(text) as Partial<CheckpointAnchor>
    if (Number.isSafeInteger(a.size) && typeof a.root === 'string') return { size: a.size!, root: a.root }
  } catch {
    // fall through
  }
  throw new MeshsigError('MALFORMED', `checkpoint anchor ${path} is corrupt`, { path })
}

/** Replace the anchor atomically (temporary file, fsync, rename). */
export function writeCheckpointAnchor(home: string, anchor: CheckpointAnchor): void {
  ensurePrivateDir(home)
  writeFileAtomic(join(home, ANCHOR_FILE), JSON.stringify({ size: anchor.size, root: anchor.root }) + '\n')
}
