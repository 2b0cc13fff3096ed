/**
 * Encryption at rest of custodied agent seeds (docs/protocol.md §2, "Custodied
 * keys"; decision 0011). Each seed is sealed with AES-256-GCM under the
 * node's custody key: a fresh 12-byte IV per value, and additional data that
 * binds the DID and the field, so a sealed value copied into another row or
 * column does not open. The key itself never enters the database.
 *
 * Layout of a sealed value: version byte (1) || IV (12) || ciphertext || tag (16).
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto'
import { randomBytesPooled } from '../random-pool.js'
import { fromB64, MeshsigError, toB64 } from '../core/index.js'

/** Bytes in a custody key (AES-256). */
export const CUSTODY_KEY_BYTES = 32

/** Which seed of a custody row a sealed value holds. */
export type CustodyField = 'seed' | 'next_seed'

const VERSION = 1
const IV_BYTES = 12
const TAG_BYTES = 16
const SEED_BYTES = 32

function additionalData(did: string, field: CustodyField): Buffer {
  return Buffer.from(`meshsig/custody/v1\n${field}\n${did}`, 'utf8')
}

/** Seals and opens custodied seeds under one custody key. */
export class CustodyCipher {
  private readonly key: KeyObject

  /**
   * @param key the 32-byte custody key
   * @param source where the key came from, named in errors (e.g. its file path)
   */
  constructor(
    key: Uint8Array,
    readonly source: string,
  ) {
    if (key.length !== CUSTODY_KEY_BYTES) {
      throw new MeshsigError('INVALID_KEY', `the custody key (${source}) must be ${CUSTODY_KEY_BYTES} bytes`)
    }
    this.key = createSecretKey(Buffer.from(key))
  }

  /** Seal the b64 seed `seedB64` of `did`'s `field`. */
  seal(did: string, field: CustodyField, seedB64: string): Buffer {
    const plain = Buffer.from(fromB64(seedB64, field, SEED_BYTES))
    const iv = randomBytesPooled(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES })
    cipher.setAAD(additionalData(did, field))
    const body = Buffer.concat([cipher.update(plain), cipher.final()])
    plain.fill(0)
    return Buffer.concat([Buffer.from([VERSION]), iv, body, cipher.getAuthTag()])
  }

  /** Open a sealed value of `did`'s `field` back into its b64 seed; throws `KEY_MISMATCH` when it does not open. */
  open(did: string, field: CustodyField, sealed: Uint8Array): string {
    const data = Buffer.from(sealed)
    if (data.length !== 1 + IV_BYTES + SEED_BYTES + TAG_BYTES || data[0] !== VERSION) {
      throw new MeshsigError('MALFORMED', `the custodied ${field} of ${did} is not a sealed seed`, { did })
    }
    const iv = data.subarray(1, 1 + IV_BYTES)
    const tag = data.subarray(data.length - TAG_BYTES)
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES })
    decipher.setAAD(additionalData(did, field))
    decipher.setAuthTag(tag)
    let plain: Buffer
    try {
      plain = Buffer.concat([decipher.update(data.subarray(1 + IV_BYTES, data.length - TAG_BYTES)), decipher.final()])
    } catch {
      throw custodyKeyMismatch(this.source, did)
    }
    const b64 = toB64(plain)
    plain.fill(0)
    return b64
  }
}

/** The error for a custodied seed that the custody key does not open: another key, or an altered row. */
export function custodyKeyMismatch(source: string, did: string): MeshsigError {
  return new MeshsigError(
    'KEY_MISMATCH',
    `the custody key (${source}) does not open the custodied key of ${did}: this database was sealed with another custody key (restore the custody.key that belongs to it), or its row was altered`,
    { custodyKey: source, did },
  )
}

let processKey: Uint8Array | undefined

/** A random custody key for this process, for stores opened without one (in-memory stores, tests). */
export function processCustodyKey(): Uint8Array {
  processKey ??= new Uint8Array(randomBytes(CUSTODY_KEY_BYTES))
  return processKey
}
