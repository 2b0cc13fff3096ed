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
 *   header (A2A agent cards are JWS by agent and node keys, docs/interop.md §2).
 * Checkpoint notes are signed only by the node's log key, never by an
 * identity key, so they need no rule here.
 */
import { MeshsigError } from './errors.js'
import { SIGNING_INPUT_MARKER } from './envelope.js'
import { isJwsSigningInput } from './a2a-jws.js'
import type { KeyPair } from './keys.js'

const SIGNATURE_PARAMS_LINE = /(^|\n)"@signature-params":/

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
  return undefined
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
