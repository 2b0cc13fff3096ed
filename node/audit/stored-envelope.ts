/**
 * The shape check of a message an export stores (docs/audit.md): the rule in
 * force when the node accepted it. A message accepted before decision 0073
 * may spell its `nonce` with the unused bits of its last character set; the
 * export is the node's own record of it, so that spelling alone is no
 * problem. Its id and signature are still checked on the text as stored.
 */
import { canonicalB64, parseEnvelope, type Envelope } from '../core/index.js'

/** Parse a stored envelope, taking a `nonce` whose only flaw is set unused bits (accepted before decision 0073). */
export function parseStoredEnvelope(stored: unknown): Envelope {
  try {
    return parseEnvelope(stored)
  } catch (err) {
    if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) throw err
    const nonce = (stored as { nonce?: unknown }).nonce
    const canonical = typeof nonce === 'string' ? canonicalB64(nonce) : undefined
    if (canonical === undefined || canonical === nonce) throw err
    parseEnvelope({ ...stored, nonce: canonical }) // every other field meets today's rule
    return stored as Envelope
  }
}
