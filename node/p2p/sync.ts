/**
 * `/meshsig/sync/1.0.0` (SPEC §4): a late joiner asks a peer for its registry
 * state with a small JSON request and gets back one frame per encoded
 * envelope. The items are untrusted: the caller checks each one by the same
 * acceptance rules as gossip.
 */
import { MeshsigError } from '../core/errors.js'
import type { SyncRequest } from './types.js'

const MAX_SYNC_REQUEST_BYTES = 1024

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

function checkSyncRequest(value: unknown): SyncRequest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('sync request must be an object')
  }
  const { kind, since, ...rest } = value as Record<string, unknown>
  if (Object.keys(rest).length > 0) throw invalid(`unknown sync request field: ${Object.keys(rest)[0]}`)
  if (kind !== 'registry') throw invalid("sync request kind must be 'registry'")
  if (since === undefined) return { kind }
  if (typeof since !== 'number' || !Number.isSafeInteger(since) || since < 0) {
    throw invalid('sync request since must be a non-negative integer (ms)')
  }
  return { kind, since }
}

function invalid(message: string): MeshsigError {
  return new MeshsigError('INVALID_INPUT', message)
}
