/**
 * The crypto of a custodied registration, off the event loop: the new key
 * and its committed next key are made from fresh seeds, their public keys
 * derived and the inception (`icp`) and registration (`reg`) signed on the
 * signing threads (sign-pool.ts). What is left for the group commit is the
 * acceptance check (a memo lookup for these signatures, node/core/signed-here.ts)
 * and the store writes. The envelopes pass every acceptance rule like any
 * other (docs/protocol.md §5).
 */
import {
  createRegistration,
  inceptionOf,
  registrationOf,
  signingBytes,
  withSignature,
  type Capability,
  type IcpEnvelope,
  type KeyPair,
  type RegEnvelope,
} from '../core/index.js'
import type { SignPool } from './sign-pool.js'

/** What preparing a registration needs. */
export interface RegistrationPrepComponents {
  readonly pool: Pick<SignPool, 'publicKey' | 'sign'>
  readonly random: (n: number) => Uint8Array
  readonly clock: () => number
  readonly nodeDid: () => string
  readonly peerId: () => string
}

/** A custodied agent's keys and its signed, not yet accepted, inception and registration. */
export interface PreparedRegistration {
  /** The agent's 32-byte seed (custodied; returned once to the caller). */
  readonly seed: Uint8Array
  /** The seed of the committed next key (custodied, never returned). */
  readonly nextSeed: Uint8Array
  readonly icp: IcpEnvelope
  readonly reg: RegEnvelope
  /** The registration time (ms), in both envelopes. */
  readonly ts: number
}

/** Make the keys of a new custodied agent named `name` and sign its icp and reg on the signing threads. */
export async function prepareRegistration(
  c: RegistrationPrepComponents,
  name: string,
  capabilities: readonly Capability[],
): Promise<PreparedRegistration> {
  const seeds = c.random(64)
  const seed = seeds.slice(0, 32)
  const nextSeed = seeds.slice(32, 64)
  const [publicKey, nextPublicKey] = await Promise.all([c.pool.publicKey(seed), c.pool.publicKey(nextSeed)])
  const ts = c.clock()
  const icp = inceptionOf(publicKey, ts, nextPublicKey)
  const reg = registrationOf({ did: icp.did, name, capabilities, controller: c.nodeDid(), peerId: c.peerId(), ts })
  const [icpSig, regSig] = await Promise.all([
    c.pool.sign(seed, signingBytes(icp)),
    c.pool.sign(seed, signingBytes(reg)),
  ])
  return { seed, nextSeed, icp: withSignature(icp, icpSig), reg: withSignature(reg, regSig), ts }
}

/**
 * The prepared registration as it must be committed: naming `peerId`, the
 * node's PeerId now. One prepared just before the node's key rotated names
 * the old PeerId; committed as it is, after the move's refresh listed the
 * agents to renew (registration-refresh.ts), it would name a PeerId no peer
 * can reach until the next start. Its registration is then signed again here,
 * with the agent's key pair, same fields and time (docs/protocol.md §2).
 */
export function namingPeerId(
  prepared: PreparedRegistration,
  peerId: string,
  keyPair: (seed: Uint8Array) => KeyPair,
): PreparedRegistration {
  const { reg, seed } = prepared
  if (reg.peerId === peerId) return prepared
  const { did, name, capabilities, controller, ts } = reg
  return { ...prepared, reg: createRegistration({ did, name, capabilities, controller, peerId, ts }, keyPair(seed)) }
}
