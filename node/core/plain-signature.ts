/**
 * Plain signatures (docs/protocol.md §3): Ed25519 over the exact bytes of a
 * text. A plain signer signs on an agent's or a language model's say-so with
 * a key that also signs other things, so it refuses any input that another
 * meshsig format would accept as its own signing input:
 * - bytes starting with 0xFF, the first byte of every envelope and handshake
 *   signing input (docs/protocol.md §4); no UTF-8 text starts with it;
 * - an RFC 9421 signature base: any line beginning `"@signature-params":`
 *   (the proxy's request signatures, docs/proxy.md);
 * - a JWS signing input, `base64url(header).base64url(payload)` with a JSON
 *   header (A2A agent cards are JWS by agent and node keys, docs/interop.md §2);
 * - a libp2p signing input: the node's identity key is its libp2p peer key
 *   (docs/protocol.md §2), so a plain signature of one would let anybody
 *   act as the node's PeerId: Noise's `noise-libp2p-static-key:` (the
 *   handshake that authenticates every mesh connection), any other
 *   `libp2p-` prefix (gossipsub's `libp2p-pubsub:`, TLS's
 *   `libp2p-tls-handshake:`), and a libp2p signed envelope's input, whose
 *   `libp2p-` domain comes after a length (signed peer records, relay
 *   vouchers).
 * Checkpoint notes are signed only by the node's log key, never by an
 * identity key, so they need no rule here.
 */
import { MeshsigError } from './errors.js'
import { SIGNING_INPUT_MARKER } from './envelope.js'
import { isJwsSigningInput } from './a2a-jws.js'
import type { KeyPair } from './keys.js'

const SIGNATURE_PARAMS_LINE = /(^|\n)"@signature-params":/

/** The start of libp2p's own signing inputs (gossipsub, TLS, record domains), and of Noise's. */
const LIBP2P = Buffer.from('libp2p-', 'latin1')
const NOISE_LIBP2P = Buffer.from('noise-libp2p-', 'latin1')

/**
 * Why `bytes` must not be signed as a plain message, or undefined when it
 * may. Pure; used by every plain signer (SDK `sign`, `meshsig sign`,
 * `meshsig_sign`).
 */
export function plainSigningRefusal(bytes: Uint8Array): string | undefined {
  if (bytes.length > 0 && bytes[0] === SIGNING_INPUT_MARKER) {
    return 'refusing to sign: input starts with byte 0xFF, which begins meshsig envelope signing inputs'
  }
  // Latin-1 decoding keeps one char per byte, so the ASCII pattern matches exactly.
  if (SIGNATURE_PARAMS_LINE.test(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1'))) {
    return 'refusing to sign: the text is an RFC 9421 signature base (a line begins "@signature-params":); HTTP requests are signed by the meshsig proxy'
  }
  if (isJwsSigningInput(bytes)) {
    return 'refusing to sign: the text is a JWS signing input (base64url header "." payload); agent cards are signed by the node'
  }
  if (startsWith(bytes, LIBP2P) || startsWith(bytes, NOISE_LIBP2P) || isLibp2pRecordInput(bytes)) {
    return "refusing to sign: the input is a libp2p signing input (a Noise handshake, a gossipsub message or a signed record); a signature of it would let its holder act as this key's libp2p peer"
  }
  return undefined
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false
  return true
}

/**
 * True when `bytes` is what a libp2p signed envelope is signed over (libp2p
 * RFC 0002): three fields, each an unsigned varint length and that many
 * bytes, ending exactly at the end; the first, the domain, begins `libp2p-`
 * and holds only `[a-z0-9-]` (`libp2p-peer-record`, `libp2p-relay-rsvp`). A
 * text that merely names a libp2p package does not (found by both attack
 * reviews of stop 32: a newline, a quote or a bullet before the name).
 */
export function isLibp2pRecordInput(bytes: Uint8Array): boolean {
  let at = 0
  for (let field = 0; field < 3; field++) {
    let length = 0
    for (let shift = 1; ; shift *= 128) {
      const b = bytes[at++]
      if (b === undefined || shift > 128 ** 4) return false
      length += (b & 0x7f) * shift
      if (b < 0x80) break
    }
    const value = bytes.subarray(at, at + length)
    if (value.length !== length) return false
    if (field === 0 && !(startsWith(value, LIBP2P) && value.every(isDomainByte))) return false
    at += length
  }
  return at === bytes.length
}

function isDomainByte(b: number): boolean {
  return (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x2d // a-z 0-9 -
}

/**
 * Sign `bytes` as a plain message with `key`. Throws `SIGNING_REFUSED` for
 * an input another meshsig format would accept (see `plainSigningRefusal`).
 */
export function signPlain(bytes: Uint8Array, key: KeyPair): Uint8Array {
  const refusal = plainSigningRefusal(bytes)
  if (refusal !== undefined) throw new MeshsigError('SIGNING_REFUSED', refusal)
  return key.sign(bytes)
}
