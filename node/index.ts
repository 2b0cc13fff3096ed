/**
 * meshsig SDK: the pure core (keys, DIDs, JCS, envelopes, key event log,
 * acceptance rules) plus the seed-compatible helpers.
 *
 * ```ts
 * import { generateIdentity, sign, verify } from 'meshsig'
 * const agent = await generateIdentity()
 * const signature = await sign('hello', agent.privateKey)
 * await verify('hello', signature, agent.did) // true
 * ```
 */
export * from './core/index.js'
export {
  generateIdentity,
  randomNonce,
  sign,
  verify,
  verifyEnvelope,
  type GeneratedIdentity,
  type SignableMessage,
  type VerifyEnvelopeOptions,
} from './sdk.js'
export * from '../api/client.js'
