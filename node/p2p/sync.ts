/**
 * `/meshsig/sync/1.0.0` (docs/protocol.md §9, docs/protocol.md §9): a node reconciles its
 * registry with a peer's by small JSON requests, each answered by frames:
 * fingerprints of trie prefixes (`fp`), short ids under prefixes (`ids`),
 * envelopes by short id (`items`) or a page of the registry in application
 * order (`page`), or the node's own key log (`self`). Every request is bounded here; every answer is untrusted:
 * the caller checks each item by the same acceptance rules as gossip.
 */
import { MeshsigError } from '../core/errors.js'
import { isPrefix, isShortId } from '../core/registry-reconcile.js'
import type { SyncRequest } from './types.js'

const MAX_SYNC_REQUEST_BYTES = 16 * 1024
/** Most prefixes one `fp` or `ids` request names. */
export const MAX_SYNC_PREFIXES = 256
/** Most short ids one `items` request names. */
export const MAX_SYNC_IDS = 512
/** Largest `page` one request asks for. */
export const MAX_SYNC_PAGE = 512
const MAX_CURSOR_CHARS = 200

/** Encode a sync request as JSON bytes. Throws `INVALID_INPUT` for a bad one. */
export function encodeSyncRequest(request: SyncRequest): Uint8Array {
  const checked = checkSyncRequest(request)
  return new Uint8Array(Buffer.from(JSON.stringify(checked), 'utf8'))
}

/** Decode and check a sync request received from a peer. Throws `INVALID_INPUT`. */
export function decodeSyncRequest(bytes: Uint8Array): SyncRequest {
  if (bytes.length > MAX_SYNC_REQUEST_BYTES) throw invalid('sync request is too large')
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'))
  } catch {
    throw invalid('sync request is not JSON')
  }
  return checkSyncRequest(value)
}

function onlyFields(value: Record<string, unknown>, allowed: readonly string[]): void {
  const extra = Object.keys(value).find((k) => !allowed.includes(k))
  if (extra !== undefined) throw invalid(`unknown sync request field: ${extra.slice(0, 40)}`)
}

function listOf(value: unknown, max: number, check: (v: unknown) => boolean, what: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > max || !value.every(check)) {
    throw invalid(`sync request ${what} must be 1 to ${max} valid entries`)
  }
  return value as string[]
}

function checkSyncRequest(value: unknown): SyncRequest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('sync request must be an object')
  }
  const v = value as Record<string, unknown>
  switch (v.kind) {
    case 'fp':
      onlyFields(v, ['kind', 'prefixes', 'children'])
      if (v.children !== undefined && typeof v.children !== 'boolean') throw invalid('children must be a boolean')
      return {
        kind: 'fp',
        prefixes: listOf(v.prefixes, MAX_SYNC_PREFIXES, isPrefix, 'prefixes'),
        ...(v.children === true ? { children: true } : {}),
      }
    case 'ids':
      onlyFields(v, ['kind', 'prefixes'])
      return { kind: 'ids', prefixes: listOf(v.prefixes, MAX_SYNC_PREFIXES, isPrefix, 'prefixes') }
    case 'items':
      onlyFields(v, ['kind', 'ids'])
      return { kind: 'items', ids: listOf(v.ids, MAX_SYNC_IDS, isShortId, 'ids') }
    case 'page':
      return checkPage(v)
    case 'self':
      onlyFields(v, ['kind'])
      return { kind: 'self' }
    case 'registry':
      return checkLegacy(v)
    default:
      throw invalid("sync request kind must be 'fp', 'ids', 'items', 'page' or 'self'")
  }
}

function checkPage(v: Record<string, unknown>): SyncRequest {
  onlyFields(v, ['kind', 'after', 'limit'])
  const { after, limit } = v
  if (after !== undefined && (typeof after !== 'string' || after.length > MAX_CURSOR_CHARS)) {
    throw invalid(`page cursor must be a string of at most ${MAX_CURSOR_CHARS} characters`)
  }
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_SYNC_PAGE) {
    throw invalid(`page limit must be 1 to ${MAX_SYNC_PAGE}`)
  }
  return after === undefined ? { kind: 'page', limit } : { kind: 'page', after, limit }
}

/** The whole-snapshot request of decision 0007 (superseded): still parsed, answered with a refusal. */
function checkLegacy(v: Record<string, unknown>): SyncRequest {
  onlyFields(v, ['kind', 'since'])
  const { since } = v
  if (since === undefined) return { kind: 'registry' }
  if (typeof since !== 'number' || !Number.isSafeInteger(since) || since < 0) {
    throw invalid('sync request since must be a non-negative integer (ms)')
  }
  return { kind: 'registry', since }
}

function invalid(message: string): MeshsigError {
  return new MeshsigError('INVALID_INPUT', message)
}
