/**
 * meshsig's pure core: keys and DIDs, canonical JSON, signed envelopes, key
 * event log rules and acceptance. No I/O; time, keys and randomness come in
 * as arguments.
 */
export * from './errors.js'
export * from './encoding.js'
export * from './keys.js'
export { rememberSigned, SIGNED_HERE_LIMIT } from './signed-here.js'
export * from './did.js'
export * from './canonical.js'
export * from './envelope.js'
export * from './envelope-schema.js'
export * from './receipt.js'
export * from './presence.js'
export * from './plain-signature.js'
export * from './kel.js'
export * from './acceptance.js'
export * from './factory.js'
export * from './merkle.js'
export * from './audit-entry.js'
export * from './audit-problems.js'
export type { SignedCheckpoint, CheckpointReading } from './audit-checkpoint.js'
export * from './audit-verify.js'
export * from './trust.js'
export * from './http-signature.js'
export * from './jwk.js'
export * from './a2a-jws.js'
export * from './a2a-card.js'
