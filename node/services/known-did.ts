/**
 * Identifiers a request names, before anything is signed, stored, audited or
 * announced (docs/protocol.md §1): a DID may be spelled as did:msig, did:key
 * or a bare b64 public key, but a bare key is 44 base64 characters, exactly
 * like a private key, and as a DID it would be published (in messages, the
 * audit log, the event stream and gossip) as base58 of the secret. So a bare
 * key is taken only when it names a DID this node already knows (a key event
 * log or a registration): a public key someone meant. Any other is refused.
 */
import { MeshsigError, toMsigDid } from '../core/index.js'
import type { Store } from '../store/index.js'

/** What the rule reads. */
export type KnownDidStore = Pick<Store, 'keyEvents' | 'agents'>

/** True when `identifier` is spelled as a bare key rather than as a DID. */
function bare(identifier: string): boolean {
  return !identifier.startsWith('did:')
}

function known(store: KnownDidStore, did: string): boolean {
  return store.keyEvents.state(did) !== undefined || store.agents.get(did) !== undefined
}

/** `identifier` as a did:msig; a bare key naming no DID known here is `INVALID_DID` (the answer does not repeat it). */
export function knownDid(store: KnownDidStore, identifier: string, field: string): string {
  const did = toMsigDid(identifier)
  if (!bare(identifier) || known(store, did)) return did
  throw new MeshsigError(
    'INVALID_DID',
    `${field} is a bare key that names no DID known here (a private key looks the same): give the DID as did:msig:…; nothing was done`,
    { field },
  )
}

/** `identifier` as a did:msig to record, or null when it is not one or is a bare key naming no known DID. */
export function recordableDid(store: KnownDidStore, identifier: string | null): string | null {
  if (identifier === null) return null
  try {
    return knownDid(store, identifier, 'subject')
  } catch {
    return null
  }
}

/** `input` with each of its DID `fields` (when a string) spelled as a did:msig, by `knownDid`. */
export function withKnownDids<T extends object>(store: KnownDidStore, input: T, fields: readonly string[]): T {
  const out = { ...input } as Record<string, unknown>
  for (const field of fields) {
    const value = out[field]
    if (typeof value === 'string') out[field] = knownDid(store, value, field)
  }
  return out as T
}
