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
} from './note.js'

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
  const logKeys = (doc.logKeys ?? {}) as Record<string, unknown>
  const chk = (doc.checkpoint ?? {}) as { origin?: string; size?: number; root?: string }
  let log: NoteVerifier | null = null
  let own: NoteVerifier | null = null
  try {
    const binding = verifyLogKeyBinding(logKeys.binding, publicKeyFromIdentifier(doc.nodePublicKey as string))
    if (binding.did !== chk.origin) throw new Error(`the log key binding is of ${binding.did}, not ${chk.origin}`)
    ;({ log, witness: own } = bindingVerifiers(binding))
  } catch (err) {
    problems.push(`the log keys are not bound to the node: ${message(err)}`)
  }
  const fromAuditor = policy.keys.length > 0
  const keys = fromAuditor ? auditorKeys(policy.keys, problems) : exportKeys(doc.witnesses, notCounted)
  const witnesses = keys.filter((k) => own === null || k.keyId !== own.keyId || k.name !== own.name)
  let logSigned = false
  const cosigners: Array<{ name: string; timestamp: number }> = []
  if (typeof doc.note !== 'string') problems.push('the export carries no checkpoint note')
  else if (log !== null) {
    logSigned = checkLogSignature(doc.note, chk, log, problems)
    for (const w of witnesses) {
      try {
        const [sig] = verifyNote(doc.note, [w])
        if (sig?.timestamp !== undefined) cosigners.push({ name: w.name, timestamp: sig.timestamp })
      } catch (err) {
        if (!/no signature of a known key/.test(message(err))) problems.push(message(err))
      }
    }
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

function checkLogSignature(
  note: string,
  chk: { origin?: string; size?: number; root?: string },
  log: NoteVerifier,
  problems: string[],
): boolean {
  try {
    const text = checkpointText(chk.origin ?? '', chk.size ?? -1, fromB64(chk.root ?? '', 'root', 32))
    if (parseNote(note).text !== text) throw new Error('the note is not the checkpoint of the export')
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
 * The export's witnesses whose binding verifies under the key their DID
 * names; each other one goes to `notCounted` with its reason (an export
 * carries no key event log of its witnesses, so a rotated one cannot be
 * followed): it counts toward no quorum, and fails nothing by itself.
 */
function exportKeys(list: unknown, notCounted: string[]): NoteVerifier[] {
  if (!Array.isArray(list)) return []
  const seen = new Set<string>()
  return list.flatMap((w: unknown) => {
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
