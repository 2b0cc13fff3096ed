/**
 * What a caller asks of the key service (key-service.ts) and what a
 * rotation answers: the proofs a rotation or revocation may carry, best
 * first (docs/protocol.md §8).
 */
import type { RegEnvelope, RotEnvelope } from '../core/index.js'
import type { Authority } from './authority.js'

/** A rotation request. Exactly one kind of proof is used, best first. */
export interface RotateInput {
  readonly did: string
  /** A signed `rot` envelope (the keys never leave the agent). */
  readonly envelope?: unknown
  /**
   * With `envelope`: the agent's registration signed by the key the rotation rotates to, stored right after
   * it in the same transaction (decision 0070); it replaces the registration this node holds.
   */
  readonly registration?: unknown
  /**
   * A rotation request signed by the current key (core/rotation-request.ts):
   * proof of the key without the key, for an agent whose keys this node keeps.
   */
  readonly keyProof?: unknown
  /** b64 seed of the current key (seed compatibility). */
  readonly currentPrivateKey?: string
  /** b64 seed of the committed next key, when the node does not custody it. */
  readonly nextPrivateKey?: string
  /** Who is calling, as the API proved it. */
  readonly authority: Authority
  /** The client's socket address, for the audit log (never a forwarded one: decision 0090). */
  readonly client?: string
  /** The address a trusted proxy's `X-Forwarded-For` named, when another: a claim, recorded apart. */
  readonly forwardedFor?: string
}

/** A revocation request. */
export interface RevokeInput {
  readonly did: string
  readonly reason: string
  /** A signed `rev` envelope (by the DID's current key or its controller's). */
  readonly envelope?: unknown
  /** b64 seed of the DID's current key. */
  readonly privateKey?: string
  /** Who is calling, as the API proved it. */
  readonly authority: Authority
  /** As `RotateInput.client`. */
  readonly client?: string
  /** As `RotateInput.forwardedFor`. */
  readonly forwardedFor?: string
}

/** An accepted rotation. New private keys appear only when this call made them and the node does not keep them. */
export interface Rotation {
  readonly envelope: RotEnvelope
  readonly did: string
  readonly publicKey: string
  readonly previousPublicKey: string
  readonly keySeq: number
  /** Custodied: the node keeps the new keys. */
  readonly custodied: boolean
  /** b64 seed of the next key committed to, returned once when the caller must keep it. */
  readonly nextPrivateKey?: string
  /** b64 seed of the new current key, returned once when this call generated it. */
  readonly privateKey?: string
  /**
   * The agent's registration signed by the new key, stored in the rotation's transaction: re-signed by the
   * node whenever the new key passed through it (custodied, or seed style), or the caller's (`registration`).
   * Gossip it after `envelope`, or late joiners get a reg signed by the rotated-out key and refuse it as
   * ROTATED_KEY (decision 0070).
   */
  readonly registration?: RegEnvelope
}
