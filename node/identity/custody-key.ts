/**
 * The custody key: 32 random bytes, b64, in `home/custody.key` (0600 in the
 * 0700 home). It seals the seeds of the agents this node custodies inside
 * the database (docs/protocol.md §2, decision 0011) and never goes into the
 * database itself, so a copy of the database alone reveals no agent key.
 * Made at `meshsig init` or at the node's first start; never replaced (a new
 * key would orphan every custodied seed).
 */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { isMeshsigError } from '../core/errors.js'
import { readSecretLine, writeSecretLine } from './secure-fs.js'

/** Name of the custody key file inside the home folder. */
export const CUSTODY_KEY_FILE = 'custody.key'

/** Bytes in a custody key (AES-256). */
export const CUSTODY_KEY_LENGTH = 32

const KEY_RE = /^[A-Za-z0-9+/]{43}=$/

/** Path of the custody key file in `home`. */
export function custodyKeyPath(home: string): string {
  return join(home, CUSTODY_KEY_FILE)
}

/**
 * Write a fresh random custody key to `home/custody.key` and return it.
 * Never replaces an existing key: throws `ALREADY_EXISTS` instead.
 */
export function createCustodyKey(home: string, random: (n: number) => Uint8Array = randomBytes): Uint8Array {
  const key = new Uint8Array(random(CUSTODY_KEY_LENGTH))
  writeSecretLine(home, custodyKeyPath(home), Buffer.from(key).toString('base64'), false)
  return key
}

/**
 * The custody key in `home`, or undefined when there is none. Throws
 * `INSECURE_KEY_FILE` when other users can read the file, `MALFORMED` when
 * it does not hold a 32-byte key.
 */
export function readCustodyKey(home: string): Uint8Array | undefined {
  const b64 = readSecretLine(custodyKeyPath(home), 'custody key file', KEY_RE)
  return b64 === undefined ? undefined : new Uint8Array(Buffer.from(b64, 'base64'))
}

/** The custody key in `home`, made first when missing (a concurrent maker's key wins). */
export function ensureCustodyKey(home: string): Uint8Array {
  const existing = readCustodyKey(home)
  if (existing !== undefined) return existing
  try {
    return createCustodyKey(home)
  } catch (err) {
    if (!isMeshsigError(err) || err.code !== 'ALREADY_EXISTS') throw err
    return readCustodyKey(home)!
  }
}
