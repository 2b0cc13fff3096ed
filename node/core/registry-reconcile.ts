/**
 * Set reconciliation over the registry (docs/protocol.md §9, decision 0014):
 * the pure rules. Every registry item (key event or current registration) is
 * named by its envelope id, a SHA-256 in hex. Items sit in a 16-ary trie over
 * the id's hex digits; a trie node's fingerprint is the item count and the
 * XOR of the first FP_BYTES of its ids. Two nodes whose fingerprints at a
 * prefix agree hold the same items there (up to a 2^-128 accident), so a
 * reconciliation descends only into prefixes that differ and costs about
 * the difference, not the registry.
 */
import type { Envelope } from './envelope-schema.js'

/** Bytes of an id folded into a fingerprint. */
export const FP_BYTES = 16
/** Deepest trie level (hex digits of a prefix) at which fingerprints are kept. */
export const MAX_DEPTH = 3
/** Hex digits of a short id: enough to name an item among a peer's, verified by the full id on arrival. */
export const SHORT_ID_HEX = 16
const HEX = '0123456789abcdef'
const ID_PATTERN = /^[0-9a-f]{64}$/
const PREFIX_PATTERN = /^[0-9a-f]{0,3}$/
const SHORT_PATTERN = /^[0-9a-f]{16}$/

/** Count and XOR fingerprint of the items under one trie prefix. */
export interface Fingerprint {
  /** Items under the prefix. */
  count: number
  /** XOR of the first FP_BYTES of their ids. */
  readonly fp: Uint8Array
}

/** An empty fingerprint. */
export function emptyFingerprint(): Fingerprint {
  return { count: 0, fp: new Uint8Array(FP_BYTES) }
}

/** True for a lowercase hex envelope id. */
export function isItemId(id: unknown): id is string {
  return typeof id === 'string' && ID_PATTERN.test(id)
}

/** True for a trie prefix (0 to MAX_DEPTH lowercase hex digits). */
export function isPrefix(p: unknown): p is string {
  return typeof p === 'string' && PREFIX_PATTERN.test(p)
}

/** True for a short id (SHORT_ID_HEX lowercase hex digits). */
export function isShortId(s: unknown): s is string {
  return typeof s === 'string' && SHORT_PATTERN.test(s)
}

/** Fold `id` into (sign +1) or out of (sign -1) a fingerprint; XOR is its own inverse. */
export function foldId(target: Fingerprint, id: string, sign: 1 | -1): void {
  for (let i = 0; i < FP_BYTES; i++) target.fp[i]! ^= parseInt(id.slice(2 * i, 2 * i + 2), 16)
  target.count += sign
}

/** The trie prefixes an id belongs to, root first ('' and its first 1..MAX_DEPTH digits). */
export function prefixesOf(id: string): string[] {
  const out = ['']
  for (let d = 1; d <= MAX_DEPTH; d++) out.push(id.slice(0, d))
  return out
}

/** The 16 children of a prefix. */
export function childPrefixes(prefix: string): string[] {
  return [...HEX].map((c) => prefix + c)
}

/** True when two fingerprints name the same items. */
export function sameFingerprint(a: Fingerprint, b: Fingerprint): boolean {
  if (a.count !== b.count) return false
  for (let i = 0; i < FP_BYTES; i++) if (a.fp[i] !== b.fp[i]) return false
  return true
}

/** What a puller does with one child prefix after comparing fingerprints. */
export type DescentStep = 'skip' | 'guess' | 'ids' | 'descend'

/** Short-id lists are cheaper than 16 more fingerprints up to this many remote items. */
export const IDS_BELOW = 24

/**
 * The next step for a prefix: nothing when the remote holds nothing there or
 * both sides agree; when the remote holds exactly one item more and the XOR
 * of both fingerprints names an id under the prefix, that id (`guess`: the
 * one missing item, if this node holds nothing the remote lacks there); the
 * remote's short ids when that list is small or the trie ends; otherwise the
 * 16 children's fingerprints.
 */
export function descentStep(prefix: string, local: Fingerprint, remote: Fingerprint): DescentStep {
  if (remote.count === 0 || sameFingerprint(local, remote)) return 'skip'
  if (remote.count === local.count + 1 && guessedId(local, remote).startsWith(prefix)) return 'guess'
  if (remote.count <= IDS_BELOW || prefix.length >= MAX_DEPTH) return 'ids'
  return 'descend'
}

/**
 * The first FP_BYTES of the one id the remote holds beyond the local set, in
 * hex, when the local items are a subset of the remote's and one fewer: XOR
 * cancels every shared id. Otherwise it names nothing real; a puller fetches
 * it by its short id and checks the full id of what arrives (§9).
 */
export function guessedId(local: Fingerprint, remote: Fingerprint): string {
  let hex = ''
  for (let i = 0; i < FP_BYTES; i++) hex += ((local.fp[i]! ^ remote.fp[i]!) | 0x100).toString(16).slice(1)
  return hex
}

/** A registry item's place in the order any node can apply the registry in. */
export interface OrderedItem {
  readonly did: string
  readonly type: 'icp' | 'rot' | 'rev' | 'reg'
  readonly seq: number
}

/**
 * The application order (docs/protocol.md §9): each DID's key events by
 * `seq`, then its registration (so an inception arrives next to the
 * registration that anchors it), DID by DID; all revocations last (a
 * controller's revocation needs the registration that names the
 * controller, and the controller's key).
 */
export function orderKey(item: OrderedItem): string {
  const last = item.type === 'rev'
  const within = item.type === 'reg' ? 'r' : `k${String(item.seq).padStart(10, '0')}`
  return `${last ? '1' : '0'}|${item.did}|${within}`
}

/** The application-order key of a fetched envelope (docs/protocol.md §9); other kinds sort after the registry. */
export function envelopeOrderKey(e: Envelope): string {
  if (e.type === 'reg') return orderKey({ did: e.did, type: 'reg', seq: 0 })
  if (e.type === 'icp' || e.type === 'rot' || e.type === 'rev') return orderKey(e)
  return `2|${e.type}`
}

/**
 * `envelopes` sorted in place into application order (docs/protocol.md §9):
 * fetched in short-id order, a DID's rotation n+1 may come before n, and
 * would be refused as skipping an event (`KEL_INVALID`) if applied first.
 */
export function inApplicationOrder(envelopes: Envelope[]): Envelope[] {
  const keyed = envelopes.map((e) => [envelopeOrderKey(e), e] as const)
  keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  keyed.forEach(([, e], i) => (envelopes[i] = e))
  return envelopes
}
