/**
 * The shape of `identity.json` and the checks that make a loaded identity
 * trustworthy: the private key matches the public key, the key event log
 * replays from its inception to the current key, and the pre-rotation
 * commitment names the stored next key.
 */
import * as z from 'zod'
import { didFromPublicKey } from '../core/did.js'
import { envelopeId, type IcpEnvelope, type KeyEvent } from '../core/envelope.js'
import { icpSchema, revSchema, rotSchema } from '../core/envelope-schema.js'
import { MeshsigError } from '../core/errors.js'
import { createInception } from '../core/factory.js'
import { replayKeyEvents, type KeyState } from '../core/kel.js'
import { keyCommitment, keyPairFromB64, type KeyPair } from '../core/keys.js'
import { toB64 } from '../core/encoding.js'

/** Version of the identity file format. */
export const IDENTITY_FILE_VERSION = 1

/**
 * Contents of `identity.json`. `publicKey`/`privateKey` are the current key;
 * `nextPrivateKey` is the pre-rotation key the log's last event commits to.
 * `keyLog` is the DID's whole key event log, inception first; `inception` is
 * the same icp kept at the top level for readers that only need that.
 */
export interface IdentityFile {
  readonly version: 1
  readonly did: string
  readonly publicKey: string
  readonly privateKey: string
  readonly nextPrivateKey: string
  readonly createdAt: string
  readonly inception: IcpEnvelope
  readonly keyLog: readonly KeyEvent[]
}

const b64Key = z.string().min(1)

/** zod schema of `identity.json` (envelopes are checked with the core's strict schemas). */
export const identityFileSchema = z.object({
  version: z.literal(IDENTITY_FILE_VERSION),
  did: z.string().startsWith('did:msig:'),
  publicKey: b64Key,
  privateKey: b64Key,
  nextPrivateKey: b64Key,
  createdAt: z.iso.datetime(),
  inception: icpSchema,
  keyLog: z.array(z.discriminatedUnion('type', [icpSchema, rotSchema, revSchema])).min(1),
})

/** An identity read from disk and checked: key pairs built, key log replayed. */
export interface Identity {
  /** What the file holds. */
  readonly file: IdentityFile
  /** The DID (stays the same across rotations). */
  readonly did: string
  /** The current signing key. */
  readonly keyPair: KeyPair
  /** The pre-rotation key the log commits to. */
  readonly nextKeyPair: KeyPair
  /** State of the key event log after its last event. */
  readonly keyState: KeyState
}

/** Build the file of a brand-new identity whose inception commits to `next`. */
export function newIdentityFile(key: KeyPair, next: KeyPair, now: number): IdentityFile {
  const inception = createInception(key, now, next)
  return {
    version: IDENTITY_FILE_VERSION,
    did: didFromPublicKey(key.publicKey),
    publicKey: toB64(key.publicKey),
    privateKey: toB64(key.seed),
    nextPrivateKey: toB64(next.seed),
    createdAt: new Date(now).toISOString(),
    inception,
    keyLog: [inception],
  }
}

function corrupt(path: string, why: string): MeshsigError {
  return new MeshsigError('MALFORMED', `identity file ${path} is corrupt: ${why}`, { path })
}

function keyFrom(seedB64: string, field: string, path: string): KeyPair {
  try {
    return keyPairFromB64(seedB64)
  } catch {
    throw corrupt(path, `${field} is not base64 of a 32-byte Ed25519 seed`)
  }
}

/** Parse the JSON text of an identity file; throws `MALFORMED` naming the path and the fault. */
export function parseIdentityFile(text: string, path: string): IdentityFile {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw corrupt(path, 'not valid JSON')
  }
  const result = identityFileSchema.safeParse(json)
  if (!result.success) {
    const issue = result.error.issues[0]
    throw corrupt(path, `${issue?.path.join('.') || 'file'}: ${issue?.message ?? 'invalid'}`)
  }
  return result.data as IdentityFile
}

/**
 * Check that a parsed file is internally consistent and return the usable
 * identity. Throws `MALFORMED` (naming `path`) on any mismatch.
 */
export function checkIdentityFile(file: IdentityFile, path: string): Identity {
  const keyPair = keyFrom(file.privateKey, 'privateKey', path)
  const nextKeyPair = keyFrom(file.nextPrivateKey, 'nextPrivateKey', path)
  if (toB64(keyPair.publicKey) !== file.publicKey) throw corrupt(path, 'privateKey does not match publicKey')
  const first = file.keyLog[0]
  if (first === undefined || first.type !== 'icp' || envelopeId(first) !== envelopeId(file.inception)) {
    throw corrupt(path, 'keyLog must start with the inception event')
  }
  let keyState: KeyState
  try {
    keyState = replayKeyEvents(file.keyLog)
  } catch (err) {
    throw corrupt(path, `key log does not replay: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (keyState.did !== file.did) throw corrupt(path, 'did does not match the key log')
  if (keyState.key !== file.publicKey) throw corrupt(path, 'publicKey is not the current key of the key log')
  if (keyState.next !== null && keyState.next !== keyCommitment(nextKeyPair.publicKey)) {
    throw corrupt(path, 'nextPrivateKey is not the key the log commits to')
  }
  return { file, did: file.did, keyPair, nextKeyPair, keyState }
}
