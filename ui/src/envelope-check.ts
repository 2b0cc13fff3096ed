/**
 * The verifier's pure logic for mesh messages: reading the envelope field
 * (an envelope's JSON, a stored message, or a message id), the hint shown
 * when a plain verification of a mesh signature fails, and the RFC 9162
 * inclusion check of an audit proof (WebCrypto SHA-256, in the browser).
 */

/** What the envelope field holds: a message id (hex SHA-256), an envelope (JSON), or nothing usable. */
export type EnvelopeInput =
  | { readonly kind: 'id'; readonly id: string }
  | { readonly kind: 'envelope'; readonly envelope: Record<string, unknown> }
  | { readonly kind: 'error'; readonly message: string }

/** Read the envelope field: a 64-hex message id or an envelope's JSON. */
export function parseEnvelopeInput(text: string): EnvelopeInput {
  const t = text.trim()
  if (/^[0-9a-fA-F]{64}$/.test(t)) return { kind: 'id', id: t.toLowerCase() }
  if (t === '') return { kind: 'error', message: 'Paste an envelope (JSON) or a message id (64 hex characters).' }
  try {
    const v = JSON.parse(t) as unknown
    // a stored message (GET /messages) carries its envelope: take it
    const env = typeof v === 'object' && v !== null && 'envelope' in v ? (v as { envelope: unknown }).envelope : v
    if (typeof env === 'object' && env !== null && !Array.isArray(env))
      return { kind: 'envelope', envelope: env as Record<string, unknown> }
  } catch {
    // fall through
  }
  return { kind: 'error', message: 'This is neither envelope JSON nor a message id (64 hex characters).' }
}

/** True when a text looks like a meshsig envelope or a stored message (JSON with type and sig, or an envelope inside). */
export function looksLikeEnvelope(text: string): boolean {
  return /^\s*\{[\s\S]*"(sig|envelope)"\s*:/.test(text)
}

/** Why a plain signature from the mesh fails: the hint shown with an INVALID plain verification. */
export const ENVELOPE_HINT =
  'If this signature comes from a mesh message (the feed, GET /messages), it is an envelope signature: it covers ' +
  '0xFF ‖ "meshsig/v1/msg\\n" ‖ the canonical JSON of the whole envelope, not the message text. Verify the ' +
  'envelope or its message id instead.'

const HASH = 'SHA-256'

async function nodeHash(left: Uint8Array, right: Uint8Array): Promise<Uint8Array> {
  const buf = new Uint8Array(1 + left.length + right.length)
  buf[0] = 1
  buf.set(left, 1)
  buf.set(right, 1 + left.length)
  return new Uint8Array(await crypto.subtle.digest(HASH, buf))
}

function fromB64(b64: string): Uint8Array {
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))
}

/** RFC 9162 §2.1.3.2: does the inclusion proof of leaf `index` in a tree of `size` lead to `root`? */
export async function checkInclusion(
  index: number,
  size: number,
  leafHash: string,
  proof: readonly string[],
  root: string,
): Promise<boolean> {
  if (index >= size) return false
  let fn = index
  let sn = size - 1
  let r = fromB64(leafHash)
  for (const p of proof.map(fromB64)) {
    if (sn === 0) return false
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r)
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2)
        sn = Math.floor(sn / 2)
      }
    } else r = await nodeHash(r, p)
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return sn === 0 && btoa(String.fromCharCode(...r)) === root
}
