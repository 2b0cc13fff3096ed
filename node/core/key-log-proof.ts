/**
 * The current key of a DID as its own signed key events prove it, for a
 * client that got them from a server it cannot trust (`meshsig verify`,
 * `meshsig_verify`; docs/api.md `GET /keys/:did`). A did:msig names its
 * inception key (SPEC §1), so the log must start with an `icp` under that
 * key, and every rotation must follow by the rules of docs/protocol.md §4
 * (signed by the key before it and by the key it reveals, which the one
 * before committed to). A server can then leave later events out, never name
 * a key of its own. Pure.
 */
import { MeshsigError, isMeshsigError } from './errors.js'
import { parseEnvelope, type Envelope, type KeyEvent } from './envelope.js'
import { MAX_KEY_EVENTS, replayKeyEvents, type KeyState } from './kel.js'

function notProven(did: string, why: string, cause?: string): MeshsigError {
  const details = { did, ...(cause !== undefined ? { cause } : {}) }
  return new MeshsigError('KEL_INVALID', `the key events of ${did} do not prove a key: ${why}`, details)
}

/** `err` (a rule a key event broke) as the reason the events prove nothing. */
function broken(did: string, err: unknown): unknown {
  return isMeshsigError(err) ? notProven(did, err.message, err.code) : err
}

/** The DID's own events (inception and rotations) among `events`, each parsed; throws on anything else. */
function ownEvents(did: string, events: readonly unknown[]): KeyEvent[] {
  const own: KeyEvent[] = []
  for (const input of events) {
    let event: Envelope
    try {
      event = parseEnvelope(input)
    } catch (err) {
      throw broken(did, err)
    }
    if (event.type !== 'icp' && event.type !== 'rot' && event.type !== 'rev') {
      throw notProven(did, `a ${event.type} envelope is no key event`)
    }
    if (event.did !== did) throw notProven(did, `an event of ${event.did} among them`)
    // a revocation is left out: a controller's is not checkable without the controller's key, and a claimed
    // revocation can only make a signature fail, never pass (the caller takes the server's word for it)
    if (event.type !== 'rev') own.push(event)
  }
  return own
}

/**
 * Replay the signed key events of `did` (as a server gave them: untrusted
 * JSON) from nothing but the DID, and return the state they prove: its
 * current key, the keys before it, its `seq`. Revocations are not replayed
 * (`revoked` is always null here). Throws `KEL_INVALID` (with the rule broken
 * as `details.cause`) when they do not replay: empty, not starting with the
 * inception of the key the DID names, out of order, a bad signature, a key
 * never committed to, more than `MAX_KEY_EVENTS`.
 */
export function provenKeyState(did: string, events: readonly unknown[]): KeyState {
  // the DID's own events and at most one revocation (its own, or its controller's)
  if (events.length > MAX_KEY_EVENTS + 1) throw notProven(did, `more than ${MAX_KEY_EVENTS} events`)
  const own = ownEvents(did, events)
  if (own[0]?.type !== 'icp') throw notProven(did, 'they do not start with its inception')
  try {
    // applyInception checks that the inception key is the one the DID names (KEY_MISMATCH otherwise)
    return replayKeyEvents(own)
  } catch (err) {
    throw broken(did, err)
  }
}
