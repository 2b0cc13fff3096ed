/**
 * C2SP signed notes, checkpoints and Ed25519 cosignatures (docs/audit.md,
 * docs/audit.md): c2sp.org/signed-note (text, blank line, signature lines
 * "— <name> base64(keyID || sig)"; key ID = SHA-256(name || 0x0A || type ||
 * public key)[:4]; verifier keys "<name>+<hex keyID>+base64(type || key)"),
 * c2sp.org/tlog-checkpoint (origin, decimal size, base64 RFC 6962 root) and
 * c2sp.org/tlog-cosignature v1 (type 0x04: a signature over
 * "cosignature/v1\ntime <T>\n" || checkpoint text, timestamped). Pure: the
 * caller passes keys and times.
 */
import { fromB64, toB64, toHex, utf8 } from './encoding.js'
import { MalformedError } from './errors.js'
import { sha256, verifySignature, type KeyPair } from './keys.js'

/** Signature type of a plain Ed25519 note signature (the log's). */
export const NOTE_ED25519 = 0x01
/** Signature type of a timestamped Ed25519 checkpoint cosignature (a witness's). */
export const NOTE_COSIGNATURE_V1 = 0x04

/** A verifier key: who signs, with which key, and how. */
export interface NoteVerifier {
  readonly name: string
  readonly type: typeof NOTE_ED25519 | typeof NOTE_COSIGNATURE_V1
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array
  readonly keyId: number
}

/** One signature line of a note. */
export interface NoteSignature {
  readonly name: string
  readonly keyId: number
  /** The bytes after the key ID. */
  readonly signature: Uint8Array
  /** The line as written, with its newline. */
  readonly line: string
}

/** A note split into its text (ending in a newline) and signature lines. */
export interface ParsedNote {
  readonly text: string
  readonly signatures: readonly NoteSignature[]
}

/** The three lines of a checkpoint. */
export interface CheckpointBody {
  readonly origin: string
  readonly size: number
  /** 32-byte RFC 6962 root. */
  readonly root: Uint8Array
}

const NAME_RE = /^[^\s+]+$/u
/** Most signature lines a note may carry (signed-note: at least 16 must be accepted). */
export const MAX_NOTE_SIGNATURES = 64

/** SHA-256(name || 0x0A || type || key)[:4] as an unsigned 32-bit number. */
export function noteKeyId(name: string, type: number, publicKey: Uint8Array): number {
  const n = utf8(name)
  const buf = new Uint8Array(n.length + 2 + publicKey.length)
  buf.set(n, 0)
  buf[n.length] = 0x0a
  buf[n.length + 1] = type
  buf.set(publicKey, n.length + 2)
  const h = sha256(buf)
  return ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0
}

/** A verifier for `name` and `publicKey` of signature `type`. */
export function noteVerifier(name: string, type: NoteVerifier['type'], publicKey: Uint8Array): NoteVerifier {
  if (!NAME_RE.test(name)) throw new MalformedError('a note key name is non-empty, without spaces or "+"')
  return { name, type, publicKey, keyId: noteKeyId(name, type, publicKey) }
}

/** The vkey text "<name>+<hex keyID>+base64(type || key)". */
export function encodeVkey(v: NoteVerifier): string {
  const id = v.keyId.toString(16).padStart(8, '0')
  return `${v.name}+${id}+${toB64(new Uint8Array([v.type, ...v.publicKey]))}`
}

/** Parse a vkey of an Ed25519 (0x01) or cosignature/v1 (0x04) key. Throws `MalformedError`. */
export function parseVkey(text: string): NoteVerifier {
  // names have no '+'; the base64 key may
  const i = text.indexOf('+')
  const j = text.indexOf('+', i + 1)
  const [name, id, key] = [text.slice(0, i), text.slice(i + 1, j), text.slice(j + 1)]
  if (i <= 0 || j < 0 || !/^[0-9a-f]{8}$/.test(id)) {
    throw new MalformedError('a vkey is <name>+<8 hex digits>+<base64 key>')
  }
  const bytes = fromB64(key, 'vkey key', 33)
  const type = bytes[0]
  if (type !== NOTE_ED25519 && type !== NOTE_COSIGNATURE_V1) throw new MalformedError(`vkey type ${type} unsupported`)
  const v = noteVerifier(name, type, bytes.subarray(1))
  if (v.keyId !== parseInt(id, 16)) throw new MalformedError('vkey key ID does not match its name and key')
  return v
}

/** The checkpoint note text: origin, size, base64 root, each newline-terminated. */
export function checkpointText(origin: string, size: number, root: Uint8Array): string {
  if (!NAME_RE.test(origin)) throw new MalformedError('a checkpoint origin has no spaces or "+"')
  if (!Number.isSafeInteger(size) || size < 0) throw new MalformedError('a tree size is a non-negative integer')
  if (root.length !== 32) throw new MalformedError('a checkpoint root is 32 bytes')
  return `${origin}\n${size}\n${toB64(root)}\n`
}

/** Read the three lines of a checkpoint text (extension lines are refused: meshsig writes none). */
export function parseCheckpointText(text: string): CheckpointBody {
  const lines = text.split('\n')
  if (lines.length !== 4 || lines[3] !== '') throw new MalformedError('a checkpoint is exactly three lines')
  const [origin, size, root] = lines as [string, string, string]
  if (!NAME_RE.test(origin)) throw new MalformedError('checkpoint origin is empty or has spaces or "+"')
  if (!/^(0|[1-9][0-9]{0,15})$/.test(size) || !Number.isSafeInteger(Number(size))) {
    throw new MalformedError('checkpoint size is not a decimal without leading zeroes')
  }
  return { origin, size: Number(size), root: fromB64(root, 'checkpoint root', 32) }
}

function sigLine(name: string, keyId: number, sig: Uint8Array): string {
  const bytes = new Uint8Array(4 + sig.length)
  new DataView(bytes.buffer).setUint32(0, keyId)
  bytes.set(sig, 4)
  return `— ${name} ${toB64(bytes)}\n`
}

/** An Ed25519 (0x01) signature line over `text` by `key` under `name`. */
export function signNoteText(text: string, name: string, key: KeyPair): string {
  const keyId = noteKeyId(name, NOTE_ED25519, key.publicKey)
  return sigLine(name, keyId, key.sign(utf8(text)))
}

/** The message a cosignature/v1 signs: header, time line, then the checkpoint text. */
export function cosignedMessage(text: string, timestamp: number): Uint8Array {
  return utf8(`cosignature/v1\ntime ${timestamp}\n${text}`)
}

/** A cosignature/v1 line over checkpoint `text` at POSIX time `timestamp` (seconds). */
export function cosignCheckpoint(text: string, name: string, key: KeyPair, timestamp: number): string {
  if (!Number.isSafeInteger(timestamp) || timestamp <= 0) throw new MalformedError('a cosignature time is > 0')
  const keyId = noteKeyId(name, NOTE_COSIGNATURE_V1, key.publicKey)
  const sig = new Uint8Array(8 + 64)
  new DataView(sig.buffer).setBigUint64(0, BigInt(timestamp))
  sig.set(key.sign(cosignedMessage(text, timestamp)), 8)
  return sigLine(name, keyId, sig)
}

/** Split a signed note into text and signature lines. Throws `MalformedError`. */
export function parseNote(note: string): ParsedNote {
  if (/[\u0000-\u0009\u000b-\u001f]/.test(note)) throw new MalformedError('a note holds no control characters')
  const split = note.lastIndexOf('\n\n')
  if (split < 0 || !note.endsWith('\n')) throw new MalformedError('a note is text, a blank line, signature lines')
  const text = note.slice(0, split + 1)
  const lines = note.slice(split + 2, -1).split('\n')
  if (lines.length > MAX_NOTE_SIGNATURES) throw new MalformedError('too many signature lines')
  const signatures = lines.map((line) => {
    const m = /^— (\S+) ([A-Za-z0-9+/]+={0,2})$/u.exec(line)
    if (m === null || m[1]!.includes('+')) throw new MalformedError('malformed note signature line')
    const bytes = fromB64(m[2]!, 'note signature')
    if (bytes.length < 5) throw new MalformedError('a note signature is a key ID and a signature')
    const keyId = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0)
    return { name: m[1]!, keyId, signature: bytes.subarray(4), line: `${line}\n` }
  })
  return { text, signatures }
}

/** The cosignature time of a 0x04 signature, or null when it does not verify. */
function checkCosignature(text: string, sig: Uint8Array, key: Uint8Array): number | null {
  if (sig.length !== 72) return null
  const t = new DataView(sig.buffer, sig.byteOffset).getBigUint64(0)
  if (t === 0n || t > BigInt(Number.MAX_SAFE_INTEGER)) return null
  return verifySignature(cosignedMessage(text, Number(t)), sig.subarray(8), key) ? Number(t) : null
}

/** A verified signature of a known key. */
export interface VerifiedSignature {
  readonly verifier: NoteVerifier
  /** Cosignature time (seconds), for 0x04 signatures. */
  readonly timestamp?: number
}

/**
 * Check every signature of a known key (name and key ID both match);
 * unknown ones are ignored (signed-note). Throws `SIGNATURE_INVALID`-like
 * `MalformedError` when a known key's signature fails, and when none verifies.
 */
export function verifyNote(note: string | ParsedNote, verifiers: readonly NoteVerifier[]): VerifiedSignature[] {
  const parsed = typeof note === 'string' ? parseNote(note) : note
  const out: VerifiedSignature[] = []
  for (const s of parsed.signatures) {
    const v = verifiers.find((k) => k.name === s.name && k.keyId === s.keyId)
    if (v === undefined) continue
    if (v.type === NOTE_ED25519) {
      if (!verifySignature(utf8(parsed.text), s.signature, v.publicKey)) {
        throw new MalformedError(`the note signature of ${v.name} does not verify`)
      }
      out.push({ verifier: v })
    } else {
      const t = checkCosignature(parsed.text, s.signature, v.publicKey)
      if (t === null) throw new MalformedError(`the cosignature of ${v.name} does not verify`)
      out.push({ verifier: v, timestamp: t })
    }
  }
  if (out.length === 0) throw new MalformedError('no signature of a known key on the note')
  return out
}

/** Hex of a 4-byte key ID (for messages). */
export function keyIdHex(id: number): string {
  return toHex(new Uint8Array([id >>> 24, (id >>> 16) & 255, (id >>> 8) & 255, id & 255]))
}
