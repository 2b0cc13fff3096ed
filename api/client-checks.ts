/**
 * What the SDK (client.ts) checks itself in a node's answers instead of
 * taking them on the server's word: the server at the client's URL may not
 * be the node (decision 0034's impostor on the node's port while it is down,
 * or a wrong URL), and SECURITY.md holds that a server that is not the node
 * decides nothing it can be checked on. A DID's current key is replayed from
 * its own signed key events (core/key-log-proof.ts, as `meshsig verify`
 * does); a plain signature under a key the caller names is verified here.
 */
import { fromB64, toB64, utf8 } from '../node/core/encoding.js'
import { didFromPublicKey, publicKeyFromIdentifier } from '../node/core/did.js'
import { MeshsigError } from '../node/core/errors.js'
import { provenKeyState } from '../node/core/key-log-proof.js'
import { SIGNATURE_LENGTH, verifySignature } from '../node/core/keys.js'
import type { KeyView } from '../node/services/key-view.js'
import type { ApiVerification } from './types.js'

function unproven(did: string, server: string, why: string, details: Record<string, unknown> = {}): MeshsigError {
  return new MeshsigError('KEL_INVALID', `the node at ${server} gave a key of ${did} that is not proven: ${why}`, {
    did,
    server,
    ...details,
  })
}

/** The did:msig an identifier names (did:msig, did:key or b64 key), or undefined when it names none. */
function didOf(identifier: string): string | undefined {
  try {
    return didFromPublicKey(publicKeyFromIdentifier(identifier))
  } catch {
    return undefined
  }
}

/** The replayed state of a view that says it holds the DID's log: its key fields as the events prove them. */
function replayed(did: string, view: KeyView, server: string): KeyView {
  if (!Array.isArray(view.keyEvents)) throw unproven(did, server, 'no signed key events (a node older than this SDK?)')
  let state
  try {
    state = provenKeyState(did, view.keyEvents)
  } catch (err) {
    const e = err as MeshsigError
    throw unproven(did, server, e.message, { ...(e.details ?? {}) })
  }
  if (state.key !== view.publicKey) throw unproven(did, server, 'its signed key events do not lead to the key it names')
  const { key, seq, lastId, next, priorKeys } = state
  return { ...view, publicKey: key, keySeq: seq, lastId, next, priorKeys }
}

/**
 * `view` (a `GET /keys/:did` answer for `requested`) once checked: about the
 * DID `requested` names; with a log, the current key its signed events prove
 * from the DID itself, the key fields (key, seq, last id, next, prior keys)
 * then those of the replay; without one (`known: false`), the inception key
 * the DID names. Throws `KEL_INVALID` otherwise. A server can still leave
 * later events out (a rotation, a revocation), never name a key of its own;
 * the revocation it claims is taken on its word (it can only make a
 * signature fail).
 */
export function provenKeyView(requested: string, view: KeyView, server: string): KeyView {
  const did = didOf(requested)
  const named = typeof view?.did === 'string' ? view.did : String(view?.did)
  if (did === undefined || named !== did) throw unproven(requested, server, `the answer is about ${named.slice(0, 80)}`)
  if (view.known) return replayed(did, view, server)
  const inception = toB64(publicKeyFromIdentifier(did))
  if (view.publicKey !== inception) throw unproven(did, server, 'it knows no log, yet names another key than the DID')
  return { ...view, keySeq: null, lastId: null, next: null, priorKeys: [], keyEvents: [] }
}

/** The input of `POST /verify`. */
export interface VerifyInput {
  readonly message: string
  readonly signature: string
  readonly did?: string
  readonly publicKey?: string
  readonly signer?: string
}

/** The key the caller names itself (a b64 key or a did:key), not a did:msig whose key only the node knows. */
function namedKey(input: VerifyInput): Uint8Array | undefined {
  const identifier = input.publicKey ?? input.signer ?? input.did
  if (identifier === undefined || identifier.startsWith('did:msig:')) return undefined
  try {
    return publicKeyFromIdentifier(identifier)
  } catch {
    return undefined // malformed: the node's answer (INVALID_KEY / INVALID_DID) stands
  }
}

function verifiesHere(input: VerifyInput, key: Uint8Array): boolean {
  try {
    return verifySignature(utf8(input.message), fromB64(input.signature, 'signature', SIGNATURE_LENGTH), key)
  } catch {
    return false
  }
}

/**
 * The node's `POST /verify` answer, checked here when the caller named the
 * key (`publicKey`, or a did:key / b64 key as `signer` or `did`): `valid`
 * only when the signature verifies under that key here too; a node that says
 * valid for one that does not is answered `valid: false`, `SIGNATURE_INVALID`
 * (fail closed). The node may be stricter (a key that is a rotated-out key of
 * a DID it knows: `ROTATED_KEY`; a revoked DID: `REVOKED`), and its negative
 * answer stands. For a did:msig the answer is the node's word.
 */
export function checkedVerification(input: VerifyInput, answer: ApiVerification): ApiVerification {
  if (answer?.valid !== true) return answer
  const key = namedKey(input)
  if (key === undefined || verifiesHere(input, key)) return answer
  return { ...answer, valid: false, code: 'SIGNATURE_INVALID' }
}
