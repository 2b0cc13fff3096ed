/**
 * The signers' key event logs an export carries (decision 0058): a message
 * is re-verified only under a key its signer's own log proves. Each DID's
 * log is replayed once, up front, into its key at each seq, so a message
 * costs one lookup however many events the export holds (attack review 87:
 * re-scanning the log for each message made a crafted export quadratic). A
 * log of more events than a valid one holds (docs/protocol.md §6) is not
 * replayed: it proves no key.
 */
import {
  MAX_KEY_EVENTS,
  applyKeyEvent,
  publicKeyFromIdentifier,
  toB64,
  type KeyEvent,
  type KeyState,
} from '../core/index.js'
import type { MessageVerification } from './message-verification.js'

/** One DID's key event log from the export, replayed once. */
export interface ReplayedKeyLog {
  /** The key (b64) after the event at each seq, from the inception up to the first event that breaks a rule. */
  readonly keyAt: ReadonlyMap<number, string>
  /** The first event that breaks a rule (its seq; -Infinity for the whole log), and why; null when none does. */
  readonly broken: { readonly seq: number; readonly why: string } | null
}

/** Most events of one DID in a valid log: `MAX_KEY_EVENTS` of its own and a revocation by its controller. */
const MAX_LOG_EVENTS = MAX_KEY_EVENTS + 1

/** The export's key event logs, by DID, each replayed once. */
export function keyLogs(events: unknown): Map<string, ReplayedKeyLog> {
  const byDid = new Map<string, KeyEvent[]>()
  if (Array.isArray(events)) {
    for (const e of events as KeyEvent[]) {
      if (typeof e !== 'object' || e === null) continue
      const did: unknown = e.did
      if (typeof did !== 'string') continue
      const log = byDid.get(did)
      if (log === undefined) byDid.set(did, [e])
      else log.push(e)
    }
  }
  const out = new Map<string, ReplayedKeyLog>()
  for (const [did, log] of byDid) out.set(did, replayOnce(log))
  return out
}

/** Replay a DID's own events by seq (a revocation changes no key), recording its key at each. */
function replayOnce(log: readonly KeyEvent[]): ReplayedKeyLog {
  const keyAt = new Map<number, string>()
  if (log.length > MAX_LOG_EVENTS) {
    const why = `it holds ${log.length} events; a valid log holds at most ${MAX_KEY_EVENTS} (docs/protocol.md §6)`
    return { keyAt, broken: { seq: -Infinity, why } }
  }
  const own = log.filter((e) => e.type !== 'rev').sort((a, b) => a.seq - b.seq)
  let state: KeyState | undefined
  for (const e of own) {
    try {
      state = applyKeyEvent(state, e)
    } catch (err) {
      return { keyAt, broken: { seq: e.seq, why: err instanceof Error ? err.message : String(err) } }
    }
    keyAt.set(state.seq, state.key)
  }
  return { keyAt, broken: null }
}

/**
 * Why the export does not prove that `v.publicKey` was the signer's key at
 * `v.keySeq`, or null when it does (decision 0058). A `key.rotated` entry is
 * the node's word: the key it names counts only when the signer's own key
 * event log in the export, signed by the signer (docs/protocol.md §6), has
 * that key at that seq; the key the signer's DID names (seq 0) needs no
 * event. An honest export holds every key event the node stored.
 */
export function keyOfLog(log: ReplayedKeyLog | undefined, v: MessageVerification, signer: string): string | null {
  if (v.keySeq === null) return null // no key: the signature check already failed
  if (log === undefined) {
    if (v.keySeq === 0 && v.publicKey === keyNamedBy(signer)) return null
    const used = `key seq ${v.keySeq} (${v.publicKey ?? 'no key'})`
    return `the log says its signer used ${used}; the export holds no key event of its signer that proves it`
  }
  // an event that breaks a rule at or before the seq spoils the log up to it (a seq that is no number: all of it)
  if (log.broken !== null && !(log.broken.seq > v.keySeq)) {
    return `the signer's key event log does not check out: ${log.broken.why}`
  }
  if (log.keyAt.get(v.keySeq) !== v.publicKey) {
    return `key seq ${v.keySeq} of the signer's key event log is not ${v.publicKey ?? 'the key used'}`
  }
  return null
}

/** The b64 key `did` names (did:msig, did:key), or null. */
function keyNamedBy(did: string): string | null {
  try {
    return toB64(publicKeyFromIdentifier(did))
  } catch {
    return null
  }
}
