/**
 * Offline check of a whole audit export, as `meshsig audit verify` runs it:
 * first the log itself (`verifyAuditExport`: signed checkpoint, Merkle root,
 * every entry named when altered, removed or reordered), then what the
 * export says on top of the log, recomputed from it:
 *
 * - every message re-verifies from its stored envelope: its id, its
 *   signature under the key its verification names, that key being the one
 *   the log says was current (and, with `keyEvents`, the key of the signer's
 *   key event log at that `seq`), and the audit entry of its acceptance; its
 *   whole `verification` (status, entry, time, key, seq) is the log's;
 * - every trust score equals the core formula over the entries;
 * - the summary's counts match what the export holds.
 */
import { checkTrustScores } from './trust-check.js'
import {
  collectTrustEvidence,
  envelopeId,
  fromB64,
  verifyAuditExport,
  verifyEnvelopeSignature,
  type AuditEntry,
  type AuditVerdict,
} from '../core/index.js'
import type { MsgEnvelope } from '../core/envelope-schema.js'
import { messageView } from '../core/message-view.js'
import { refusalsIn } from '../core/audit-refusals.js'
import { messageVerifications, type MessageVerification } from './message-verification.js'
import { keyLogs, keyOfLog, type ReplayedKeyLog } from './export-key-logs.js'
import { parseStoredEnvelope } from './stored-envelope.js'
import { TOO_DEEP, exportNestsTooDeep, isStackOverflow, quoteValue } from './untrusted-value.js'

/** Something the export says that its own log does not bear out. */
export interface ContentProblem {
  /** What part of the export: a message, a trust score, a revocation, or the summary. */
  readonly kind: 'message' | 'trust' | 'revocation' | 'summary'
  /** Message id, DID, peer or summary field concerned. */
  readonly subject: string
  readonly message: string
}

/** The outcome of `checkAuditExport`. `ok` only when the log and everything recomputed check out. */
export interface ExportCheck {
  readonly ok: boolean
  /** The log's verdict: signature, root, and each altered, removed or reordered entry. */
  readonly log: AuditVerdict
  /** Messages re-verified from their envelopes. */
  readonly messagesChecked: number
  /** Trust scores recomputed from the entries. */
  readonly scoresChecked: number
  /** Disagreements between the export's other sections and its log. */
  readonly problems: readonly ContentProblem[]
}

/** Options of `checkAuditExport`. */
export interface CheckExportOptions {
  /** Called with (done, total) units of work: entries, leaf hashes, then messages. */
  readonly onProgress?: (done: number, total: number) => void
  /** Most content problems to list (default 1000). */
  readonly maxProblems?: number
  /**
   * Verify connections scored by `TRUST_FORMULA_V1` (exports made before
   * decision 0051) by that rule; without it such an export is a problem.
   */
  readonly legacyTrust?: boolean
}

/** A message as an export shows it (only the fields checked). */
export interface ExportedMessage {
  readonly id?: unknown
  readonly envelope?: unknown
  readonly verification?: Partial<MessageVerification>
  /** Copies of the envelope's fields for readers; each one present must equal the signed one. */
  readonly message?: unknown
  readonly from?: unknown
  readonly to?: unknown
  readonly ts?: unknown
  readonly timestamp?: unknown
  readonly nonce?: unknown
  readonly signature?: unknown
  readonly verified?: unknown
}

/** Content problems, at most `max` kept. */
export class Problems {
  readonly list: ContentProblem[] = []
  constructor(private readonly max: number) {}
  /** Record one problem (dropped past the cap). */
  add(kind: ContentProblem['kind'], subject: string, message: string): void {
    if (this.list.length < this.max) this.list.push({ kind, subject, message })
  }
}

/**
 * Check an audit export (the parsed JSON of `meshsig audit --json`). Throws
 * `MalformedError` only when it has no entries array. A document nesting
 * deeper than any export does, or one whose checks overflow the stack or
 * stop on any other error, does not verify (node/audit/untrusted-value.ts).
 */
export function checkAuditExport(doc: unknown, options: CheckExportOptions = {}): ExportCheck {
  const entries = (doc as { entries?: unknown } | null)?.entries
  if (Array.isArray(entries) && exportNestsTooDeep(doc)) return unchecked(entries.length, `the export ${TOO_DEEP}`)
  try {
    return checkExport(doc, options)
  } catch (err) {
    if (!Array.isArray(entries)) throw err
    // any value of the file is a problem of the verdict, never an error without one (docs/audit.md, "What verify checks")
    return unchecked(entries.length, `the export could not be checked: ${uncheckedWhy(err)}`)
  }
}

/**
 * Why a check stopped on an untrusted value, as a problem says it: a stack
 * overflow is values nesting too deep; anything else is named by its message.
 * Either way the export does not verify (fail closed).
 */
export function uncheckedWhy(err: unknown): string {
  if (isStackOverflow(err)) return 'its values nest too deep (stack overflow)'
  return `a value stopped the check (${quoteValue(err instanceof Error ? err.message : String(err))})`
}

/** The verdict on an export whose checks could not run: it does not verify, for `why`. */
function unchecked(size: number, why: string): ExportCheck {
  return { ok: false, log: uncheckedLog(size, why), messagesChecked: 0, scoresChecked: 0, problems: [] }
}

/** The log's verdict when its check could not run: not ok, one malformed problem saying `why`. */
export function uncheckedLog(size: number, why: string): AuditVerdict {
  return {
    ok: false,
    size,
    root: 'not computed',
    checkpoint: null,
    diagnosis: 'structural',
    problems: [{ kind: 'malformed', message: why }],
    omittedProblems: 0,
  }
}

function checkExport(doc: unknown, options: CheckExportOptions): ExportCheck {
  const d = (doc ?? {}) as Record<string, unknown>
  const messages = Array.isArray(d.messages) ? (d.messages as ExportedMessage[]) : []
  let logTotal = 0
  const report = options.onProgress
  const log = verifyAuditExport(doc, {
    onProgress: (done, total) => {
      logTotal = total
      report?.(done, total + messages.length)
    },
  })
  const entries = d.entries as AuditEntry[]
  const problems = new Problems(options.maxProblems ?? 1000)
  const kels = keyLogs(d.keyEvents)
  const derived = messageVerifications(entries.filter(hasData))
  const listed = new Set<unknown>()
  messages.forEach((m, i) => {
    // the NDJSON form takes a message only right after its acceptance entry, so once; here the list is checked
    const id = typeof m === 'object' && m !== null ? m.id : undefined
    if (listed.has(id)) problems.add('message', quoteValue(id), `message ${quoteValue(id)} is listed more than once`)
    else checkMessage(m, i, { derived, kels, problems })
    listed.add(id)
    if (report && (i + 1) % 1000 === 0) report(logTotal + i + 1, logTotal + messages.length)
  })
  report?.(logTotal + messages.length, logTotal + messages.length)
  const scoresChecked = checkTrust(d, entries, problems, options.legacyTrust === true)
  checkSummary(d, { messages: messages.length, entries: entries.length, refusals: refusalsOf(entries) }, problems)
  return {
    ok: log.ok && problems.list.length === 0,
    log,
    messagesChecked: messages.length,
    scoresChecked,
    problems: problems.list,
  }
}

/** What checking one message needs: the log's verifications, the key event logs replayed once. */
export interface MessageContext {
  readonly derived: Map<string, MessageVerification>
  readonly kels: ReadonlyMap<string, ReplayedKeyLog>
  readonly problems: Problems
}

/** Check one exported message against the log's verification of it and the signer's key event log. */
export function checkMessage(m: ExportedMessage, i: number, ctx: MessageContext): void {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) {
    return ctx.problems.add('message', `messages[${i}]`, `message ${i} is not a JSON object`)
  }
  const label = typeof m.id === 'string' ? m.id : `messages[${i}]`
  const fail = (why: string): void => ctx.problems.add('message', label, `message ${label}: ${why}`)
  let envelope
  try {
    envelope = parseStoredEnvelope(m.envelope)
    if (envelope.type !== 'msg') throw new Error(`a ${envelope.type} envelope`)
  } catch (err) {
    return fail(`its stored envelope is not a msg envelope (${err instanceof Error ? err.message : String(err)})`)
  }
  if (envelopeId(envelope) !== m.id) return fail('its id is not the id of its envelope')
  const copy = shownDiffers(m, envelope as MsgEnvelope)
  if (copy !== undefined) return fail(`its ${copy} is not what its signed envelope says`)
  const v: unknown = m.verification
  const logged = ctx.derived.get(label)
  if (logged === undefined) return fail('no audit entry records its acceptance')
  // an export made before messages carried their verification has none: the log alone says which key
  if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v))) {
    return fail('its verification is not a JSON object')
  }
  const differs = v === undefined ? undefined : verificationDiffers(v as Record<string, unknown>, logged)
  if (differs !== undefined) {
    return fail(
      `its verification's ${differs} differs from the log's (entry ${logged.auditIndex}, verified at ${logged.verifiedAt}, key seq ${logged.keySeq})`,
    )
  }
  try {
    verifyEnvelopeSignature(envelope, fromB64(logged.publicKey ?? '', 'publicKey', 32))
  } catch {
    return fail(`its signature does not verify under ${logged.publicKey ?? 'no key'}`)
  }
  const kelProblem = keyOfLog(ctx.kels.get(envelope.from), logged, envelope.from)
  if (kelProblem !== null) fail(kelProblem)
}

/**
 * The first field of a message's shown verification that is not what the
 * log gives (status, audit entry, its time, key, key seq), or a field the
 * log gives none of; undefined when the whole object is the log's (attack
 * review 125, L1: a `verifiedAt` moved to another time is caught).
 */
function verificationDiffers(shown: Record<string, unknown>, logged: MessageVerification): string | undefined {
  const fields = Object.keys(logged) as Array<keyof MessageVerification>
  const differs = fields.find((k) => shown[k] !== logged[k])
  if (differs !== undefined) return differs
  const extra = Object.keys(shown).find((k) => !(fields as string[]).includes(k))
  return extra === undefined ? undefined : quoteValue(extra)
}

/** The fields of a message's view (node/core/message-view.ts) that copy its signed envelope. */
const SIGNED_COPIES = ['from', 'to', 'message', 'signature', 'nonce', 'ts', 'timestamp', 'verified'] as const

/**
 * The first field a reader sees beside the envelope that differs from what
 * the node's own view of that envelope shows, or undefined: what an auditor
 * reads is what was signed.
 */
function shownDiffers(m: ExportedMessage, envelope: MsgEnvelope): string | undefined {
  const signed = messageView({ seq: 0, id: '', source: '', receivedAt: 0, envelope })
  const shown = m as Record<string, unknown>
  return SIGNED_COPIES.find((k) => shown[k] !== undefined && shown[k] !== signed[k])
}

/** Recompute every trust score the export shows; returns how many were compared. */
function checkTrust(
  d: Record<string, unknown>,
  entries: readonly AuditEntry[],
  problems: Problems,
  legacyTrust: boolean,
): number {
  const valid = entries.filter(hasData)
  return checkTrustScores(d, collectTrustEvidence(valid, { legacyPairs: true }), problems, { legacyTrust })
}

/**
 * True when `e` is an object whose `data` is an object (not null): the only
 * entries the trust replay, refusal count and verifications read; any other
 * is a malformed entry of the log's verdict (`verifyAuditExport`).
 */
export function hasData(e: unknown): e is AuditEntry {
  if (typeof e !== 'object' || e === null) return false
  const data = (e as { data?: unknown }).data
  return typeof data === 'object' && data !== null && !Array.isArray(data)
}

/** What the summary of an export is held to: counted in the export, or recounted from its entries. */
export interface SummaryCounts {
  readonly messages: number
  readonly entries: number
  /** Refusals the entries record (`refusalsIn`). */
  readonly refusals: number
}

/** Refusals the well-formed entries of `entries` record (node/core/audit-refusals.ts). */
function refusalsOf(entries: readonly unknown[]): number {
  let n = 0
  for (const e of entries as AuditEntry[]) {
    if (hasData(e)) n += refusalsIn(e) // as the NDJSON check reads them
  }
  return n
}

/** Compare the summary's counts with what the export holds. */
export function checkSummary(d: Record<string, unknown>, counts: SummaryCounts, problems: Problems): void {
  const s = d.summary as Record<string, unknown> | null | undefined
  if (s === undefined) return
  if (typeof s !== 'object' || s === null || Array.isArray(s)) {
    return problems.add('summary', 'summary', `the summary is ${quoteValue(s)}, not a JSON object`)
  }
  const { messages, entries, refusals } = counts
  // the node counts each refusal summary as the refusals it stands for (decision 0053)
  if (s.failedVerifications !== undefined && s.failedVerifications !== refusals) {
    problems.add(
      'summary',
      'failedVerifications',
      `summary.failedVerifications is ${quoteValue(s.failedVerifications)}; the entries record ${refusals} refusals`,
    )
  }
  if (s.totalMessages !== messages) {
    problems.add(
      'summary',
      'totalMessages',
      `summary.totalMessages is ${quoteValue(s.totalMessages)}; the export holds ${messages}`,
    )
  }
  if (s.auditEntries !== entries) {
    problems.add(
      'summary',
      'auditEntries',
      `summary.auditEntries is ${quoteValue(s.auditEntries)}; the export holds ${entries}`,
    )
  }
}

export { checkTrustScores }
