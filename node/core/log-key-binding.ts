/**
 * The statement that binds a node's log key and witness key to its DID
 * (docs/audit.md, "The note fields"): `{v: 1, type: "logkeys", did, origin, logKey,
 * witnessKey, ts, sig}`, signed by the node's identity key over the
 * envelope signing input of docs/protocol.md §4:
 * 0xFF || "meshsig/v1/logkeys\n" || JCS(statement without sig). The log key
 * signs checkpoint notes (name = origin = the DID), the witness key signs
 * cosignatures (name = "<DID>/witness"); the identity key never signs a note.
 */
import * as z from 'zod'
import { canonicalize } from './canonical.js'
import { fromB64, toB64 } from './encoding.js'
import { domainSigningInput } from './envelope.js'
import { b64Field } from './envelope-schema.js'
import { MalformedError, SignatureInvalidError } from './errors.js'
import type { KeyState } from './kel.js'
import { verifySignature, type KeyPair } from './keys.js'
import { NOTE_COSIGNATURE_V1, NOTE_ED25519, noteVerifier, type NoteVerifier } from './note.js'

const b64Key = b64Field(32)

/** Shape of a log key binding (strict). */
export const logKeyBindingSchema = z.strictObject({
  v: z.literal(1),
  type: z.literal('logkeys'),
  did: z
    .string()
    .max(128)
    .regex(/^did:msig:[1-9A-HJ-NP-Za-km-z]+$/),
  origin: z.string().min(1).max(200),
  logKey: b64Key,
  witnessKey: b64Key,
  ts: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  sig: b64Field(64),
})

/** A node's signed statement naming its log and witness keys. */
export type LogKeyBinding = z.infer<typeof logKeyBindingSchema>

/** The witness key name of a node: its DID + "/witness". */
export function witnessName(did: string): string {
  return `${did}/witness`
}

function signingInput(b: Omit<LogKeyBinding, 'sig'>): Uint8Array {
  return domainSigningInput('logkeys', canonicalize(b))
}

/** Sign a binding of `logKey` and `witnessKey` to `did` with the identity key. Origin = the DID. */
export function createLogKeyBinding(
  did: string,
  logKey: Uint8Array,
  witnessKey: Uint8Array,
  ts: number,
  identity: KeyPair,
): LogKeyBinding {
  const body = {
    v: 1 as const,
    type: 'logkeys' as const,
    did,
    origin: did,
    logKey: toB64(logKey),
    witnessKey: toB64(witnessKey),
    ts,
  }
  return { ...body, sig: toB64(identity.sign(signingInput(body))) }
}

/**
 * Check shape and signature under `identityKey` (the DID's current key).
 * The log and witness keys differ from each other and from `identityKey`
 * (SPEC §5). Throws `MALFORMED`/`SIGNATURE_INVALID`.
 */
export function verifyLogKeyBinding(input: unknown, identityKey: Uint8Array): LogKeyBinding {
  const parsed = logKeyBindingSchema.safeParse(input)
  if (!parsed.success) throw new MalformedError(`malformed log key binding: ${parsed.error.issues[0]?.message}`)
  const { sig, ...body } = parsed.data
  if (body.origin !== body.did) throw new MalformedError('a log key binding names its DID as origin')
  if (body.logKey === body.witnessKey) throw new MalformedError('the log key and the witness key must differ')
  // SPEC §5: each is a key of its own, and the identity key never signs a note
  const identity = toB64(identityKey)
  if (body.logKey === identity || body.witnessKey === identity) {
    throw new MalformedError('a log key binding names the identity key as its log or witness key')
  }
  if (!verifySignature(signingInput(body), fromB64(sig, 'sig', 64), identityKey)) {
    throw new SignatureInvalidError('the log key binding is not signed by the key of its DID')
  }
  return parsed.data
}

/**
 * True when the binding `b` (as held, not checked since) was signed by a key
 * its DID has rotated away from, and not by its current key (decision 0084):
 * after a rotation the node made a new log key, which a witness takes at once
 * in place of the one this binding named. `state` is the DID's key state as
 * the witness holds it; without it, or revoked, false. One check under the
 * current key, then the prior keys newest first, stopping at the first match.
 */
export function boundByRetiredKey(
  b: LogKeyBinding,
  state: Pick<KeyState, 'key' | 'priorKeys' | 'revoked'> | undefined,
): boolean {
  if (state === undefined || state.revoked !== null) return false
  const signedBy = (key: string): boolean => {
    try {
      verifyLogKeyBinding(b, fromB64(key, 'key', 32))
      return true
    } catch {
      return false
    }
  }
  if (signedBy(state.key)) return false
  return [...state.priorKeys].reverse().some(signedBy)
}

/** The note verifiers a binding names: the log key (0x01, name = origin) and the witness key (0x04). */
export function bindingVerifiers(b: LogKeyBinding): { log: NoteVerifier; witness: NoteVerifier } {
  return {
    log: noteVerifier(b.origin, NOTE_ED25519, fromB64(b.logKey, 'logKey', 32)),
    witness: noteVerifier(witnessName(b.did), NOTE_COSIGNATURE_V1, fromB64(b.witnessKey, 'witnessKey', 32)),
  }
}

/**
 * A witness's binding as a log stores it (`witness.binding.<DID>`, decision
 * 0066, addendum: with `keptSize`, the size of the checkpoint its line was
 * last kept for), read back as the witness sent it.
 */
export function storedBinding(text: string): LogKeyBinding {
  const { keptSize: _kept, ...binding } = JSON.parse(text) as LogKeyBinding & { keptSize?: number }
  return binding
}
