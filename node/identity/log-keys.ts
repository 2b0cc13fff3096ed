/**
 * The node's log key and witness key, and its checkpoint anchor, in
 * `$MESHSIG_HOME` (docs/audit.md, docs/audit.md):
 *
 * - `log.key`, `witness.key` (0600): b64 32-byte Ed25519 seeds, each used
 *   for nothing else: the log key signs the node's checkpoint notes, the
 *   witness key its cosignatures of peers' checkpoints. Made at init or the
 *   first start, never replaced.
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

/** The node's log and witness key pairs, made first when missing (never replaced). */
export function ensureLogKeys(
  home: string,
  random: (n: number) => Uint8Array = randomBytes,
): { log: KeyPair; witness: KeyPair } {
  return { log: ensureSeedFile(home, LOG_KEY_FILE, random), witness: ensureSeedFile(home, WITNESS_KEY_FILE, random) }
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
