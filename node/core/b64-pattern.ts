/**
 * The pattern of canonical base64, apart from `encoding.ts` so that the
 * schemas (and the dashboard that imports them) need no Node `Buffer`.
 */

/**
 * Canonical standard padded base64 (docs/protocol.md §1): the unused bits of
 * the last character are zero, so a 1-byte tail ends in one of `AQgw` then
 * `==`, a 2-byte tail in one of `AEIMQUYcgkosw048` then `=`. Every byte string
 * has exactly one spelling that matches, so two texts that match are equal
 * exactly when their bytes are: the check every base64 field of a wire shape
 * makes, without decoding it.
 */
export const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$/
