/** Logic of the public verifier page, apart from its markup. */
import { ApiError } from './api.js'
import type { Verification, VerifyRequest } from './types.js'

/** The outcome shown under the form. */
export type VerifyOutcome =
  | { readonly kind: 'valid'; readonly result: Verification }
  | { readonly kind: 'invalid'; readonly result: Verification; readonly why: string }
  | { readonly kind: 'error'; readonly code: string; readonly message: string }

/** The request for the form's fields: a `did:` signer goes as `did`, anything else as `publicKey`. */
export function verifyRequestOf(message: string, signature: string, signer: string): VerifyRequest {
  const s = signer.trim()
  const sig = signature.trim()
  return s.toLowerCase().startsWith('did:')
    ? { message, signature: sig, did: s }
    : { message, signature: sig, publicKey: s }
}

const WHY: Record<string, string> = {
  SIGNATURE_INVALID: 'The signature does not match this message and this signer.',
  ROTATED_KEY: 'It was made with a key this DID has since rotated away from; it no longer counts.',
  REVOKED: 'The signer’s DID is revoked: nothing it signs is valid any more.',
}

/** Why a verification came back invalid, in plain words. */
export function invalidReason(code: string | undefined): string {
  return (code !== undefined && WHY[code]) || WHY.SIGNATURE_INVALID!
}

const SOURCES: Record<string, string> = {
  'key-event-log': 'current key of the DID, from this node’s key event log',
  did: 'inception key encoded in the DID (this node has no key events for it)',
  'did:key': 'key encoded in the did:key',
  'public-key': 'the public key given',
}

/** The key source of a verification, in plain words. */
export function keySourceText(source: string): string {
  return SOURCES[source] ?? source
}

/** What the user did wrong, before asking the node. */
export function missingField(signature: string, signer: string): string | undefined {
  if (signature.trim() === '') return 'Enter the signature (base64).'
  if (signer.trim() === '') return 'Enter the signer: a DID or a base64 public key.'
  return undefined
}

/** The outcome of an answer or a failure of `POST /verify`. */
export function outcomeOf(answer: Verification | unknown): VerifyOutcome {
  if (answer instanceof ApiError) return { kind: 'error', code: answer.code, message: answer.message }
  if (answer instanceof Error) return { kind: 'error', code: 'ERROR', message: answer.message }
  const result = answer as Verification
  return result.valid ? { kind: 'valid', result } : { kind: 'invalid', result, why: invalidReason(result.code) }
}
