/**
 * The shape check of a message an export stores (docs/audit.md): the rule in
 * force when the node accepted it. A message accepted before decision 0073
 * may spell its `nonce` with the unused bits of its last character set; the
 * export is the node's own record of it, so that spelling alone is no
 * problem. Its id and signature are still checked on the text as stored.
 */
import { parseEnvelope, type Envelope } from '../core/index.js'

/** Parse a stored envelope, taking a `nonce` whose only flaw is set unused bits (accepted before decision 0073). */
export function parseStoredEnvelope(stored: unknown): Envelope {
  try {
    return parseEnvelope(stored)
  } catch (err) {
    if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) throw err
    const nonce = (stored as { nonce?: unknown }).nonce
    const canonical = typeof nonce === 'string' ? bitsCleared(nonce) : undefined
    if (canonical === undefined) throw err
    parseEnvelope({ ...stored, nonce: canonical }) // every other field meets today's rule
    return stored as Envelope
  }
}

/**
 * The canonical spelling of `text` when it differs from it only in the unused
 * bits of its last character (the second spelling decision 0073 refuses),
 * else undefined.
 */
function bitsCleared(text: string): string | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined
  const canonical = Buffer.from(text, 'base64').toString('base64')
  const last = canonical.replace(/=+$/, '').length - 1
  if (canonical === text || canonical.length !== text.length || last < 0) return undefined
  const same = (a: number, b?: number): boolean => canonical.slice(a, b) === text.slice(a, b)
  return same(0, last) && same(last + 1) ? canonical : undefined
}
