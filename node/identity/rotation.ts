/**
 * Key rotation and revocation of the identity in a meshsig home. A rotation
 * reveals the committed next key (pre-rotation), commits to a freshly made
 * one, and is checked with the core's log rules before the file is replaced
 * atomically: the file is written before anyone else sees the rotation, so
 * the key it commits to is never lost. The DID never changes; the libp2p
 * PeerId of a node follows its current key (docs/protocol.md §2).
 */
import { randomBytes } from 'node:crypto'
import { toB64 } from '../core/encoding.js'
import type { RevEnvelope, RotEnvelope } from '../core/envelope.js'
import { MeshsigError } from '../core/errors.js'
import { createRevocation, createRotation } from '../core/factory.js'
import { applyKeyEvent } from '../core/kel.js'
import { generateKeyPair } from '../core/keys.js'
import type { Identity, IdentityFile } from './identity-file.js'
import { loadIdentity, saveIdentity } from './identity-store.js'

/** Options of a rotation. */
export interface RotateIdentityOptions {
  /** Time of the rotation, ms since the epoch (default: now). */
  readonly now?: number
  /** Source of the new next key's seed (default: the OS CSPRNG). */
  readonly random?: (n: number) => Uint8Array
}

/** A rotated identity: the new state, the one before it, and the signed `rot` to publish. */
export interface IdentityRotation {
  readonly identity: Identity
  readonly previous: Identity
  readonly rotation: RotEnvelope
}

/**
 * The identity file after rotating `identity` to its committed next key, with
 * a fresh key committed to, and the signed `rot`. Pure apart from `random`;
 * throws the core's error (e.g. `REVOKED`) when the log refuses the rotation.
 */
export function rotatedIdentityFile(
  identity: Identity,
  opts: RotateIdentityOptions = {},
): { file: IdentityFile; rotation: RotEnvelope } {
  const following = generateKeyPair(opts.random ?? randomBytes)
  const next = identity.nextKeyPair
  const rotation = createRotation(identity.keyState, identity.keyPair, next, opts.now ?? Date.now(), following)
  applyKeyEvent(identity.keyState, rotation)
  const file: IdentityFile = {
    ...identity.file,
    publicKey: toB64(next.publicKey),
    privateKey: toB64(next.seed),
    nextPrivateKey: toB64(following.seed),
    keyLog: [...identity.file.keyLog, rotation],
  }
  return { file, rotation }
}

/**
 * Rotate the identity in `home` and replace its file (atomic, 0600). Throws
 * `NO_IDENTITY`, `INSECURE_KEY_FILE`, `MALFORMED` as `loadIdentity` does, and
 * `REVOKED` for a revoked identity.
 */
export function rotateIdentity(home: string, opts: RotateIdentityOptions = {}): IdentityRotation {
  const previous = loadIdentity(home)
  if (previous.keyState.revoked) {
    throw new MeshsigError('REVOKED', `DID is revoked: ${previous.did}`, { did: previous.did })
  }
  const { file, rotation } = rotatedIdentityFile(previous, opts)
  return { identity: saveIdentity(home, file), previous, rotation }
}

/** A `rev` of the identity's own DID, signed with its current key (not yet recorded anywhere). */
export function identityRevocation(identity: Identity, reason: string, now: number = Date.now()): RevEnvelope {
  const rev = createRevocation(identity.keyState, identity.keyPair, reason, now)
  applyKeyEvent(identity.keyState, rev)
  return rev
}

/**
 * Append an accepted `rev` of the identity's own DID to its key log in
 * `home`, so the file tells the truth and a node starting from it republishes
 * the revocation. A file that already holds it is left as it is.
 */
export function recordIdentityRevocation(home: string, rev: RevEnvelope): Identity {
  const identity = loadIdentity(home)
  if (identity.did !== rev.did) {
    throw new MeshsigError('INVALID_INPUT', `the revocation names ${rev.did}, not ${identity.did}`)
  }
  if (identity.file.keyLog.some((e) => e.type === 'rev')) return identity
  applyKeyEvent(identity.keyState, rev)
  return saveIdentity(home, { ...identity.file, keyLog: [...identity.file.keyLog, rev] })
}
