/**
 * What a node knows about the keys of a DID, for the faces: the key that
 * checks a signer's plain signatures (`signerKey`, used by `POST /verify`)
 * and the DID's key state as `GET /keys/:did` shows it (`keyView`), which
 * the CLI's `verify` and `rotate-key`/`revoke` read.
 */
import {
  fromB64,
  isoTime,
  publicKeyFromDid,
  publicKeyFromIdentifier,
  toB64,
  toMsigDid,
  type KeyEvent,
  type RegEnvelope,
} from '../core/index.js'
import type { Store } from '../store/index.js'
import { duplicityViews, type DuplicityView } from './duplicity.js'

/** Where the key that checks a plain signature came from. */
export type SignerKeySource = 'key-event-log' | 'did' | 'did:key' | 'public-key'

/** The key that checks signatures of a signer (DID, did:key or b64 key), as this node knows it. */
export interface SignerKey {
  /** The did:msig of the signer (the DID itself, or the DID the key names). */
  readonly did: string
  /** Current public key (raw), or null when the DID is revoked. */
  readonly publicKey: Uint8Array | null
  readonly source: SignerKeySource
  readonly revoked: boolean
  /** Keys the DID signed with before (b64), to tell a rotated-out key from a forgery. */
  readonly priorKeys: readonly string[]
}

/** Resolve a signer to its current key through this node's key event logs. Throws INVALID_DID / INVALID_KEY. */
export function signerKey(store: Store, identifier: string): SignerKey {
  const source: SignerKeySource = identifier.startsWith('did:msig:')
    ? 'did'
    : identifier.startsWith('did:key:')
      ? 'did:key'
      : 'public-key'
  const did = toMsigDid(identifier)
  const state = store.keyEvents.state(did)
  if (state?.revoked) return { did, publicKey: null, source, revoked: true, priorKeys: state.priorKeys }
  // a did:key or raw key that names a DID this node knows is that DID: its log decides (no alias escapes it)
  if (state === undefined) {
    return { did, publicKey: publicKeyFromIdentifier(identifier), source, revoked: false, priorKeys: [] }
  }
  return {
    did,
    publicKey: fromB64(state.key, 'key', 32),
    source: 'key-event-log',
    revoked: false,
    priorKeys: state.priorKeys,
  }
}

/** A DID's key state as this node knows it (`GET /keys/:did`). */
export interface KeyView {
  readonly did: string
  /** True when this node holds the DID's key event log. */
  readonly known: boolean
  /** Where `publicKey` comes from: the log, or (no log known) the key the DID names. */
  readonly source: 'key-event-log' | 'did'
  /** The DID's current public key (b64); for a revoked DID, its last key. */
  readonly publicKey: string
  /** `seq` of the last key event, or null when no log is known. */
  readonly keySeq: number | null
  /** Id of the last key event (the `prev` of the next one), or null. */
  readonly lastId: string | null
  /** Commitment to the next key (b64 SHA-256), or null. */
  readonly next: string | null
  /** Keys the DID signed with before, oldest first (b64). */
  readonly priorKeys: readonly string[]
  readonly revoked: boolean
  readonly revocation: {
    readonly reason: string
    readonly revokedAt: string
    readonly by: 'self' | 'controller'
  } | null
  /** Conflicting key events this node refused for the DID. */
  readonly duplicity: DuplicityView[]
  /**
   * The DID's signed key events as stored (its own by seq from the inception, then a revocation): a
   * client replays them itself (core/key-log-proof.ts) instead of taking `publicKey` on this node's word.
   */
  readonly keyEvents: readonly KeyEvent[]
  /**
   * The DID's registration this node holds, as signed, or null: a client checks it under the DID's keys
   * itself (`meshsig rotate-key` signs it again with the new key, decision 0070).
   */
  readonly registration: RegEnvelope | null
}

/** The key state of the DID `identifier` names (did:msig, did:key or b64 key). Throws INVALID_DID / INVALID_KEY. */
export function keyView(store: Store, identifier: string): KeyView {
  const did = toMsigDid(identifier)
  const state = store.keyEvents.state(did)
  const duplicity = duplicityViews(store, did)
  const held = store.agents.get(did)
  const registration = held === undefined ? null : (JSON.parse(held.regEnvelope) as RegEnvelope)
  if (state === undefined) {
    const publicKey = toB64(publicKeyFromDid(did))
    const none = { keySeq: null, lastId: null, next: null, priorKeys: [], revoked: false, revocation: null }
    return { did, known: false, source: 'did', publicKey, ...none, duplicity, keyEvents: [], registration }
  }
  const r = state.revoked
  return {
    did,
    known: true,
    source: 'key-event-log',
    publicKey: state.key,
    keySeq: state.seq,
    lastId: state.lastId,
    next: state.next,
    priorKeys: state.priorKeys,
    revoked: r !== null,
    revocation: r ? { reason: r.reason, revokedAt: isoTime(r.ts), by: r.by } : null,
    duplicity,
    keyEvents: store.keyEvents.log(did),
    registration,
  }
}
