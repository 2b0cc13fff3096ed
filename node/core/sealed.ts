/**
 * The `msg` envelopes this process signed, frozen with their signing bytes
 * (docs/protocol.md §4): the acceptance of the very same object takes it as
 * its own typed copy and takes the bytes instead of canonicalizing it again.
 * Every field of a `msg` is a primitive, so a frozen one can never differ
 * from the bytes kept for it. Nothing from outside the process is sealed:
 * parsing copies untrusted input into new objects. Entries go with their
 * envelopes (a WeakMap).
 */
import type { MsgEnvelope } from './envelope-schema.js'

const sealed = new WeakMap<object, Uint8Array>()

/**
 * Freeze a `msg` envelope this process has just signed over `bytes` (its
 * signing bytes) and remember them. Callers must not write into `bytes`.
 */
export function sealSignedMsg(envelope: MsgEnvelope, bytes: Uint8Array): MsgEnvelope {
  sealed.set(Object.freeze(envelope), bytes)
  return envelope
}

/** The signing bytes of a sealed envelope, else undefined. */
export function sealedBytes(envelope: object): Uint8Array | undefined {
  return sealed.get(envelope)
}
