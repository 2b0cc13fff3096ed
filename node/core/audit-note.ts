/**
 * The checkpoint note of an audit export and its cosignatures (docs/audit.md,
 * `meshsig audit verify --witnesses K`): the note must be the C2SP checkpoint
 * of exactly the export's checkpoint (origin, size, root), signed by the log
 * key the node's identity key bound to its DID (`logKeys.binding`); then the
 * cosignatures of the witness keys the auditor trusts are counted, each
 * counted once. Witness keys come from the auditor (`--witness-key`, a policy
 * file) or, failing that, from the export's own `witnesses` list, each
 * binding checked under the witness DID's key where the DID names one. A
 * listed witness whose binding does not check out there (one that rotated its
 * identity key since, or a doctored entry) is not counted, and said so: the
 * quorum alone decides (decision 0079).
 */
import { publicKeyFromIdentifier } from './did.js'
import { fromB64, toB64 } from './encoding.js'
import { bindingVerifiers, verifyLogKeyBinding } from './log-key-binding.js'
import {
  NOTE_COSIGNATURE_V1,
  checkpointText,
  encodeVkey,
  parseNote,
  parseVkey,
  verifyNote,
  type NoteVerifier,
  type ParsedNote,
} from './note.js'

/**
 * Most witnesses an export's `witnesses` list is read for: a node lists one
 * per cosignature its note holds, at most `MAX_COSIGNATURES` (16,
 * node/audit/checkpoint-notes.ts). A longer list is a problem of the check,
 * and only the first ones are read (docs/audit.md, "What verify checks").
 */
export const MAX_LISTED_WITNESSES = 16

/**
 * Most characters of an export's checkpoint note: a three-line checkpoint
 * and at most `MAX_NOTE_SIGNATURES` (64) signature lines are a few KB; a
 * longer note is a problem, never parsed (attack review 125, M1).
 */
export const MAX_NOTE_LENGTH = 65_536

/** Which witnesses an auditor requires. */
export interface WitnessPolicy {
  /** Witness vkeys the auditor trusts (cosignature/v1); empty: take those the export lists. */
  readonly keys: readonly string[]
  /** Cosignatures required from distinct keys. */
  readonly quorum: number
}

/** What the note check found. */
export interface NoteCheck {
  /** True when the note is present, matches the checkpoint, is log-signed, and the quorum is met. */
  readonly ok: boolean
  /** The note carries the log key's signature over the export's checkpoint. */
  readonly logSigned: boolean
  /** Where the witness keys came from. */
  readonly keysFrom: 'auditor' | 'export'
  /** Witness keys that were considered, as vkeys. */
  readonly witnessKeys: readonly string[]
  /** Witnesses whose cosignature verified, with its time (POSIX seconds). */
  readonly cosigners: ReadonlyArray<{ readonly name: string; readonly timestamp: number }>
  readonly quorum: number
  readonly problems: readonly string[]
  /** Witnesses the export lists that were not counted, and why (their binding does not check out here). */
  readonly notCounted: readonly string[]
}

/** Read a policy file: `witness <vkey>` and `quorum <K>` lines, `#` comments. Throws on anything else. */
export function parseWitnessPolicy(text: string): WitnessPolicy {
  const keys: string[] = []
  let quorum: number | undefined
  for (const [i, raw] of text.split('\n').entries()) {
    const l = raw.replace(/#.*$/, '').trim()
    if (l === '') continue
    const [word, value, extra] = l.split(/\s+/)
    if (word === 'witness' && value !== undefined && extra === undefined) keys.push(parseVkey(value) && value)
    else if (word === 'quorum' && value !== undefined && /^\d{1,3}$/.test(value)) quorum = Number(value)
    else throw new Error(`policy line ${i + 1}: expected "witness <vkey>" or "quorum <K>"`)
  }
  return { keys, quorum: quorum ?? keys.length }
}

/**
 * Check the export's note against its checkpoint and count the cosignatures
 * of `policy`'s witnesses. Any error on the file's values is a problem of a
 * check that is not ok, never a throw (docs/audit.md, "What verify checks").
 */
export function checkAuditNote(doc: Record<string, unknown>, policy: WitnessPolicy): NoteCheck {
  try {
    return checkNote(doc, policy)
  } catch (err) {
    return {
      ok: false,
      logSigned: false,
      keysFrom: policy.keys.length > 0 ? 'auditor' : 'export',
      witnessKeys: [],
      cosigners: [],
      quorum: policy.quorum,
      problems: [`the note could not be checked: ${message(err)}`],
      notCounted: [],
    }
  }
}

function checkNote(doc: Record<string, unknown>, policy: WitnessPolicy): NoteCheck {
  const problems: string[] = []
  const notCounted: string[] = []
  const chk = (doc.checkpoint ?? {}) as { origin?: string; size?: number; root?: string }
  const { log, own } = logVerifiers(doc, chk, problems)
  const fromAuditor = policy.keys.length > 0
  const keys = fromAuditor ? auditorKeys(policy.keys, problems) : exportKeys(doc.witnesses, notCounted, problems)
  const witnesses = keys.filter((k) => own === null || k.keyId !== own.keyId || k.name !== own.name)
  let logSigned = false
  let cosigners: Array<{ name: string; timestamp: number }> = []
  const note = readNote(doc.note, problems) // parsed once: every key below is checked against this one parse
  if (note !== null && log !== null) {
    logSigned = checkLogSignature(note, chk, log, problems)
    cosigners = countCosigners(note, witnesses, problems)
  }
  if (cosigners.length < policy.quorum) {
    problems.push(
      `${cosigners.length} of the ${policy.quorum} cosignatures required (${witnesses.length} witness keys)`,
    )
  }
  return {
    ok: logSigned && problems.length === 0,
    logSigned,
    keysFrom: fromAuditor ? 'auditor' : 'export',
    witnessKeys: witnesses.map(encodeVkey),
    cosigners,
    quorum: policy.quorum,
    problems,
    notCounted,
  }
}

/** The log's and the node's own witness verifiers, from the binding the node's identity key signed (null: a problem). */
function logVerifiers(
  doc: Record<string, unknown>,
  chk: { origin?: string },
  problems: string[],
): { log: NoteVerifier | null; own: NoteVerifier | null } {
  const logKeys = (doc.logKeys ?? {}) as Record<string, unknown>
  try {
    const binding = verifyLogKeyBinding(logKeys.binding, publicKeyFromIdentifier(doc.nodePublicKey as string))
    if (binding.did !== chk.origin) throw new Error(`the log key binding is of ${binding.did}, not ${chk.origin}`)
    const { log, witness } = bindingVerifiers(binding)
    return { log, own: witness }
  } catch (err) {
    problems.push(`the log keys are not bound to the node: ${message(err)}`)
    return { log: null, own: null }
  }
}

/**
 * The export's note, parsed once, or null with a problem: absent, longer
 * than `MAX_NOTE_LENGTH` (not read at all), or not a signed note.
 */
function readNote(note: unknown, problems: string[]): ParsedNote | null {
  if (typeof note !== 'string') {
    problems.push('the export carries no checkpoint note')
    return null
  }
  if (note.length > MAX_NOTE_LENGTH) {
    problems.push(`the checkpoint note is ${note.length} characters; no note is longer than ${MAX_NOTE_LENGTH}`)
    return null
  }
  try {
    return parseNote(note)
  } catch (err) {
    problems.push(`checkpoint note: ${message(err)}`)
    return null
  }
}

/** The cosignatures of `witnesses` on the parsed note; a cosignature that fails is a problem. */
function countCosigners(
  note: ParsedNote,
  witnesses: readonly NoteVerifier[],
  problems: string[],
): Array<{ name: string; timestamp: number }> {
  const cosigners: Array<{ name: string; timestamp: number }> = []
  for (const w of witnesses) {
    try {
      const [sig] = verifyNote(note, [w])
      if (sig?.timestamp !== undefined) cosigners.push({ name: w.name, timestamp: sig.timestamp })
    } catch (err) {
      if (!/no signature of a known key/.test(message(err))) problems.push(message(err))
    }
  }
  return cosigners
}

function checkLogSignature(
  note: ParsedNote,
  chk: { origin?: string; size?: number; root?: string },
  log: NoteVerifier,
  problems: string[],
): boolean {
  try {
    const text = checkpointText(chk.origin ?? '', chk.size ?? -1, fromB64(chk.root ?? '', 'root', 32))
    if (note.text !== text) throw new Error('the note is not the checkpoint of the export')
    verifyNote(note, [log])
    return true
  } catch (err) {
    problems.push(`checkpoint note: ${message(err)}`)
    return false
  }
}

/** The auditor's witness keys, each public key once: one witness named twice (flag and policy) is one cosigner. */
function auditorKeys(vkeys: readonly string[], problems: string[]): NoteVerifier[] {
  const seen = new Set<string>()
  return vkeys.flatMap((v) => {
    try {
      const k = parseVkey(v)
      if (k.type !== NOTE_COSIGNATURE_V1) throw new Error('not a cosignature/v1 (witness) key')
      const key = toB64(k.publicKey)
      if (seen.has(key)) return []
      seen.add(key)
      return [k]
    } catch (err) {
      problems.push(`witness key ${v}: ${message(err)}`)
      return []
    }
  })
}

/**
 * The export's witnesses whose binding verifies (the first
 * `MAX_LISTED_WITNESSES`; a longer list is a problem) under the key their DID
 * names; each other one goes to `notCounted` with its reason (an export
 * carries no key event log of its witnesses, so a rotated one cannot be
 * followed): it counts toward no quorum, and fails nothing by itself.
 */
function exportKeys(list: unknown, notCounted: string[], problems: string[]): NoteVerifier[] {
  if (!Array.isArray(list)) return []
  if (list.length > MAX_LISTED_WITNESSES) {
    problems.push(
      `the export lists ${list.length} witnesses; a node lists at most ${MAX_LISTED_WITNESSES}: the rest are not read`,
    )
  }
  const seen = new Set<string>()
  return list.slice(0, MAX_LISTED_WITNESSES).flatMap((w: unknown) => {
    const { did, binding: signed } = (typeof w === 'object' && w !== null ? w : {}) as Record<string, unknown>
    try {
      const binding = verifyLogKeyBinding(signed, publicKeyFromIdentifier(String(did)))
      if (binding.did !== did) throw new Error('the binding names another DID')
      const k = bindingVerifiers(binding).witness
      if (seen.has(toB64(k.publicKey))) return [] // two DIDs binding one witness key are one cosigner
      seen.add(toB64(k.publicKey))
      return [k]
    } catch (err) {
      notCounted.push(`witness ${String(did)}: its key binding does not check out (${message(err)})`)
      return []
    }
  })
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
