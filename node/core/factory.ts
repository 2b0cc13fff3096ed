/**
 * Builders for each envelope type. Pure: the time (`ts`) and any randomness
 * (`nonce`) are arguments, never read from the environment here.
 */
import { didFromPublicKey } from './did.js'
import { toB64 } from './encoding.js'
import {
  envelopeId,
  signEnvelope,
  signRotation,
  type ChkEnvelope,
  type IcpEnvelope,
  type MsgEnvelope,
  type RegEnvelope,
  type RevEnvelope,
  type RotEnvelope,
  type Unsigned,
} from './envelope.js'
import { keyCommitment, type KeyPair } from './keys.js'
import type { KeyState } from './kel.js'

/** A capability an agent offers. */
export interface Capability {
  readonly type: string
  readonly confidence?: number
}

/**
 * The unsigned inception event of `publicKey`'s DID, committing to
 * `nextPublicKey` (pre-rotation) when given: for a signer that signs
 * elsewhere (a worker thread), then `withSignature`.
 */
export function inceptionOf(
  publicKey: Uint8Array,
  ts: number,
  nextPublicKey?: Uint8Array | null,
): Unsigned<IcpEnvelope> {
  return {
    v: 1,
    type: 'icp',
    did: didFromPublicKey(publicKey),
    seq: 0,
    key: toB64(publicKey),
    next: nextPublicKey ? keyCommitment(nextPublicKey) : null,
    ts,
  }
}

/** Inception event of `key`'s DID, committing to `nextKey` (pre-rotation) when given. */
export function createInception(key: KeyPair, ts: number, nextKey?: KeyPair | Uint8Array | null): IcpEnvelope {
  const nextPub = nextKey instanceof Uint8Array ? nextKey : nextKey?.publicKey
  return signEnvelope<IcpEnvelope>(inceptionOf(key.publicKey, ts, nextPub), key)
}

/** Rotation from the current key to `newKey`, committing to `nextKey` when given. */
export function createRotation(
  state: KeyState,
  currentKey: KeyPair,
  newKey: KeyPair,
  ts: number,
  nextKey?: KeyPair | Uint8Array | null,
): RotEnvelope {
  const nextPub = nextKey instanceof Uint8Array ? nextKey : nextKey?.publicKey
  return signRotation(
    {
      v: 1,
      type: 'rot',
      did: state.did,
      seq: state.seq + 1,
      prev: state.lastId,
      key: toB64(newKey.publicKey),
      next: nextPub ? keyCommitment(nextPub) : null,
      ts,
    },
    currentKey,
    newKey,
  )
}

/** Revocation of `state.did`, signed by its current key or by its controller's key. */
export function createRevocation(state: KeyState, signer: KeyPair, reason: string, ts: number): RevEnvelope {
  return signEnvelope<RevEnvelope>(
    { v: 1, type: 'rev', did: state.did, seq: state.seq + 1, prev: state.lastId, reason, ts },
    signer,
  )
}

/** Fields of a registration besides the signature and the version. */
export interface RegistrationInit {
  readonly did: string
  readonly name: string
  readonly capabilities: readonly Capability[]
  readonly controller: string
  readonly peerId: string
  readonly ts: number
}

/** The unsigned registration of an agent (then `withSignature`, by its current key). */
export function registrationOf(init: RegistrationInit): Unsigned<RegEnvelope> {
  return { v: 1, type: 'reg', ...init, capabilities: init.capabilities.map((c) => ({ ...c })) }
}

/** Registration of an agent, signed by the agent's current key. */
export function createRegistration(init: RegistrationInit, key: KeyPair): RegEnvelope {
  return signEnvelope<RegEnvelope>(registrationOf(init), key)
}

/** Fields of a message besides the signature and the version. */
export interface MessageInit {
  readonly from: string
  readonly to: string | null
  readonly body: string
  readonly ts: number
  /** 16 random bytes; the caller supplies them. */
  readonly nonce: Uint8Array
}

/** A signed `msg` envelope from `init.from`, signed with its current key. */
export function createMessage(init: MessageInit, key: KeyPair): MsgEnvelope {
  return signEnvelope<MsgEnvelope>(
    { v: 1, type: 'msg', from: init.from, to: init.to, body: init.body, ts: init.ts, nonce: toB64(init.nonce) },
    key,
  )
}

/** A checkpoint of an audit log of `size` entries with Merkle `root`, signed by the node. */
export function createCheckpoint(
  origin: string,
  size: number,
  root: Uint8Array,
  ts: number,
  key: KeyPair,
): ChkEnvelope {
  return signEnvelope<ChkEnvelope>({ v: 1, type: 'chk', origin, size, root: toB64(root), ts }, key)
}

export { envelopeId }
