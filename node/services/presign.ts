/**
 * Pre-signing of messages sent for agents whose keys this node custodies:
 * the envelope is built here and its Ed25519 signature made on a worker
 * thread (sign-pool.ts), so the event loop keeps to checking and storing.
 * The result is an ordinary signed envelope that then passes every
 * acceptance rule like any other. Whenever anything is unusual (a private
 * key given, no custody, a revoked or malformed DID, a key that is not
 * current), the input is returned unchanged and the message service signs
 * and reports exactly as it always does.
 */
import {
  fromB64,
  publicKeyFromDid,
  signingBytes,
  toB64,
  toMsigDid,
  type MsgEnvelope,
  type Unsigned,
} from '../core/index.js'
import type { Store } from '../store/index.js'
import type { KeyPairCache } from './key-cache.js'
import { authorizedBy, type SendInput } from './message-service.js'
import type { SignPool } from './sign-pool.js'

/** What pre-signing needs. */
export interface PresignComponents {
  readonly store: Store
  readonly clock: () => number
  readonly random: (n: number) => Uint8Array
  readonly keys: KeyPairCache
  readonly pool: SignPool
}

/** The custodied seed of `from` when it is the DID's current, unrevoked key. */
function currentCustodiedSeed(c: PresignComponents, from: string): Uint8Array | undefined {
  const state = c.store.keyEvents.state(from)
  if (state?.revoked) return undefined
  const custody = c.store.misc.custodyOf(from)
  if (custody === undefined) return undefined
  const seed = fromB64(custody.seed, 'seed', 32)
  const current = state ? state.key : toB64(publicKeyFromDid(from))
  return toB64(c.keys.get(seed).publicKey) === current ? seed : undefined
}

/** Turn a custodied `fromDid` send into a pre-signed envelope; anything else is returned as it is. */
export async function presign(c: PresignComponents, input: SendInput): Promise<SendInput> {
  if ('envelope' in input || input.privateKey !== undefined) return input
  let unsigned: Unsigned<MsgEnvelope>
  let seed: Uint8Array | undefined
  let bytes: Uint8Array
  try {
    const from = toMsigDid(input.fromDid)
    const to = input.toDid === null ? null : toMsigDid(input.toDid)
    seed = currentCustodiedSeed(c, from)
    if (seed === undefined || (to !== null && c.store.keyEvents.state(to)?.revoked)) return input
    const nonce = toB64(c.random(16))
    unsigned = { v: 1, type: 'msg', from, to, body: input.message, ts: c.clock(), nonce }
    bytes = signingBytes(unsigned)
  } catch {
    return input
  }
  const sig = toB64(await c.pool.sign(seed, bytes))
  return {
    envelope: { ...unsigned, sig },
    authorizedBy: authorizedBy(input),
    ...(input.client !== undefined ? { client: input.client } : {}),
  }
}
