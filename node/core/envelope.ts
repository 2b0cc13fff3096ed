/**
 * Signed envelopes (docs/protocol.md §4). `sig` is Ed25519 over
 * `0xFF || UTF-8("meshsig/v1/" + type + "\n") || JCS(envelope without sig and sig2)`,
 * and an envelope's `id` is the hex SHA-256 of those same bytes. Pure: no
 * clock, no randomness, no I/O; callers pass what they need.
 */
import { canonicalize } from './canonical.js'
import { fromB64, toB64, utf8 } from './encoding.js'
import { MalformedError, SignatureInvalidError } from './errors.js'
import { sha256Hex, verifySignature, type KeyPair } from './keys.js'
import { envelopeSchema, type Envelope, type RotEnvelope } from './envelope-schema.js'
import { sealedBytes } from './sealed.js'
import { conformingEnvelope } from './envelope-fast.js'
import { duplicateJsonKey } from './json-duplicate-keys.js'

export type {
  MsgEnvelope,
  RegEnvelope,
  IcpEnvelope,
  RotEnvelope,
  RevEnvelope,
  ChkEnvelope,
  Envelope,
  EnvelopeType,
  KeyEvent,
} from './envelope-schema.js'
/** An envelope before signing: everything but `sig` (and `sig2`). */
export type Unsigned<E extends Envelope> = Omit<E, 'sig' | 'sig2'>

/**
 * First byte of every meshsig signing input that is not plain text. 0xFF
 * never occurs in UTF-8, so no plain signature of a text (docs/protocol.md
 * §3) can ever be an envelope or handshake signature, whatever the text says.
 */
export const SIGNING_INPUT_MARKER = 0xff

/** Domain prefix text that binds a signature to one envelope type (after the 0xFF byte). */
export function domainPrefix(type: string): string {
  return `meshsig/v1/${type}\n`
}

/**
 * The signing input of a domain-separated statement:
 * `0xFF || UTF-8("meshsig/v1/" + type + "\n") || UTF-8(canonicalJson)`.
 * The prefix ends in "\n", so no UTF-16 pair spans the join and encoding the
 * joined text equals concatenating the two encodings.
 */
export function domainSigningInput(type: string, canonicalJson: string): Uint8Array {
  const text = utf8(domainPrefix(type) + canonicalJson)
  const out = new Uint8Array(text.length + 1)
  out[0] = SIGNING_INPUT_MARKER
  out.set(text, 1)
  return out
}

/** The exact bytes an envelope's signatures cover (docs/protocol.md §4). */
export function signingBytes(envelope: Unsigned<Envelope> | Envelope): Uint8Array {
  const known = sealedBytes(envelope)
  if (known !== undefined) return known
  const { sig: _sig, sig2: _sig2, ...body } = envelope as Record<string, unknown>
  return domainSigningInput(String(body.type), canonicalize(body))
}

/** The envelope id of already computed signing bytes: lowercase hex SHA-256. */
export function idOfSigningBytes(bytes: Uint8Array): string {
  return sha256Hex(bytes)
}

/** The envelope id: lowercase hex SHA-256 of its signing bytes. */
export function envelopeId(envelope: Unsigned<Envelope> | Envelope): string {
  return idOfSigningBytes(signingBytes(envelope))
}

/** Sign an unsigned envelope with `signer`. For `rot`, use `signRotation`. */
export function signEnvelope<E extends Exclude<Envelope, RotEnvelope>>(unsigned: Unsigned<E>, signer: KeyPair): E {
  const sig = toB64(signer.sign(signingBytes(unsigned)))
  return parseEnvelope({ ...unsigned, sig }) as E
}

/**
 * The envelope `unsigned` with a signature made elsewhere (a worker thread)
 * over its `signingBytes`. Not parsed here: it is an envelope only once
 * acceptance (core/acceptance.ts, which parses) takes it.
 */
export function withSignature<E extends Exclude<Envelope, RotEnvelope>>(unsigned: Unsigned<E>, sig: Uint8Array): E {
  return { ...unsigned, sig: toB64(sig) } as E
}

/** Sign a rotation: `sig` by the outgoing key, `sig2` by the incoming key. */
export function signRotation(unsigned: Unsigned<RotEnvelope>, oldKey: KeyPair, newKey: KeyPair): RotEnvelope {
  const bytes = signingBytes(unsigned)
  const envelope = { ...unsigned, sig: toB64(oldKey.sign(bytes)), sig2: toB64(newKey.sign(bytes)) }
  return parseEnvelope(envelope) as RotEnvelope
}

/**
 * Check the shape of untrusted input and return it as a typed envelope.
 * Throws `MalformedError` naming the first offending field.
 */
export function parseEnvelope(input: unknown): Envelope {
  const fast = conformingEnvelope(input)
  if (fast !== undefined) return fast
  const result = envelopeSchema.safeParse(input)
  if (!result.success) {
    const issue = result.error.issues[0]
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'envelope'
    throw new MalformedError(`malformed envelope: ${where}: ${issue?.message ?? 'invalid'}`, { field: where })
  }
  return result.data
}

/** UTF-8 that refuses bytes that are not UTF-8, and keeps a byte order mark (which JSON text may not start with). */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * Parse an envelope from its JSON text or bytes. The text must be I-JSON,
 * as JCS requires (RFC 8785 §3.1, docs/protocol.md §3): UTF-8 bytes and no
 * member name twice in one object. `JSON.parse` would read bad bytes as
 * U+FFFD and keep the last of two names, so bytes a peer relays as they
 * came could read as another message to a parser that keeps the first
 * (attack review 103). Throws `MalformedError`.
 */
export function decodeEnvelope(data: string | Uint8Array): Envelope {
  let text: string
  let json: unknown
  try {
    text = typeof data === 'string' ? data : STRICT_UTF8.decode(data)
    json = JSON.parse(text)
  } catch {
    throw new MalformedError('envelope is not valid JSON in UTF-8')
  }
  const repeated = duplicateJsonKey(text)
  if (repeated !== undefined) {
    throw new MalformedError(`envelope names the member "${repeated.slice(0, 32)}" twice in one object`)
  }
  return parseEnvelope(json)
}

/** The bytes that travel on the wire: JCS of the whole envelope. */
export function encodeEnvelope(envelope: Envelope): Uint8Array {
  return utf8(canonicalize(envelope))
}

/**
 * Check `sig` (or `sig2`) of an envelope under `publicKey`. Throws
 * `SignatureInvalidError` when it does not verify.
 */
export function verifyEnvelopeSignature(
  envelope: Envelope,
  publicKey: Uint8Array,
  field: 'sig' | 'sig2' = 'sig',
  bytes: Uint8Array = signingBytes(envelope),
): void {
  const sigText = (envelope as Record<string, unknown>)[field]
  if (typeof sigText !== 'string') throw new SignatureInvalidError(`envelope has no ${field}`)
  const signature = fromB64(sigText, field, 64)
  if (!verifySignature(bytes, signature, publicKey)) {
    throw new SignatureInvalidError(`${field} of ${envelope.type} envelope does not verify`, {
      type: envelope.type,
    })
  }
}
