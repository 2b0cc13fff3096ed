/**
 * Pre-signing of `fromDid` sends, with the custodied key or the seed's
 * one-time `privateKey`: the envelope is built here and its Ed25519
 * signature made on a worker thread (sign-pool.ts), so the event loop keeps
 * to checking and storing, and both forms share the send batcher's group
 * commit. The result is an ordinary signed envelope that then passes every
 * acceptance rule like any other. Whenever anything is unusual (no custody,
 * a revoked or malformed DID, a key that is not current), the input is
 * returned unchanged and the message service signs (or refuses) and reports
 * exactly as it always does.
 */
import {
  fromB64,
  publicKeyFromDid,
  sealSignedMsg,
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

/**
 * The seed that signs for `from` — the one-time `privateKey` given, else the
 * custodied one — when it is the DID's current, unrevoked key. The key pair
 * comes from the bounded cache keyed by the seed bytes (key-cache.ts), never
 * persisted or logged, so a client that sends with its `privateKey` again and
 * again pays for the key objects once; a key that is not the DID's is not kept.
 */
function currentSeed(c: PresignComponents, from: string, privateKey: string | undefined): Uint8Array | undefined {
  const state = c.store.keyEvents.state(from)
  if (state?.revoked) return undefined
  let seed: Uint8Array
  if (privateKey !== undefined) seed = fromB64(privateKey, 'privateKey', 32)
  else {
    const custody = c.store.custody.get(from)
    if (custody === undefined) return undefined
    seed = fromB64(custody.seed, 'seed', 32)
  }
  const current = state ? state.key : toB64(publicKeyFromDid(from))
  return c.keys.matching(seed, current) !== undefined ? seed : undefined
}

/** Turn a `fromDid` send (custodied key or one-time `privateKey`) into a pre-signed envelope; anything else is returned as it is. */
export async function presign(c: PresignComponents, input: SendInput): Promise<SendInput> {
  if ('envelope' in input) return input
  let unsigned: Unsigned<MsgEnvelope>
  let seed: Uint8Array | undefined
  let bytes: Uint8Array
  try {
    const from = toMsigDid(input.fromDid)
    const to = input.toDid === null ? null : toMsigDid(input.toDid)
    seed = currentSeed(c, from, input.privateKey)
    if (seed === undefined || (to !== null && c.store.keyEvents.state(to)?.revoked)) return input
    const nonce = toB64(c.random(16))
    unsigned = { v: 1, type: 'msg', from, to, body: input.message, ts: c.clock(), nonce }
    bytes = signingBytes(unsigned)
  } catch {
    return input
  }
  const sig = toB64(await c.pool.sign(seed, bytes))
  return {
    envelope: sealSignedMsg({ ...unsigned, sig }, bytes),
    authorizedBy: authorizedBy(input),
    ...(input.client !== undefined ? { client: input.client } : {}),
    ...(input.forwardedFor !== undefined ? { forwardedFor: input.forwardedFor } : {}),
  }
}
