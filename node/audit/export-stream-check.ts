/**
 * `checkAuditExport` for the NDJSON export (docs/audit.md), one line at a
 * time: the log through the core's `AuditStreamVerifier` (constant memory),
 * each message line against the acceptance entry right before it, the trust
 * scores and summary of the trailer against the evidence replayed on the
 * way. Memory grows with key events, DIDs, peers and pairs, never with the
 * entries or messages. Pure: the caller reads the lines.
 */
import { AUDIT_NDJSON_FORMAT, AuditStreamVerifier } from '../core/audit-stream.js'
import { duplicateJsonKey, type AuditEntry, type KeyEvent } from '../core/index.js'
import {
  Problems,
  checkMessage,
  keyLogs,
  checkSummary,
  checkTrustScores,
  type ExportCheck,
  type ExportedMessage,
  type MessageContext,
} from './export-check.js'
import { VerificationTracker, type MessageVerification } from './message-verification.js'
import { TrustTally } from './trust-ledger.js'

/** True when `start` (the first bytes of a file) is the header of an NDJSON audit export. */
export function isNdjsonExport(start: string): boolean {
  return /^\s*\{\s*"format"\s*:\s*"meshsig-audit-ndjson\//.test(start)
}

interface Line {
  readonly type?: unknown
  readonly [field: string]: unknown
}

/** Checks an NDJSON export fed line by line; `finish()` gives the same verdict as `checkAuditExport`. */
export class NdjsonExportCheck {
  readonly #log: AuditStreamVerifier
  readonly #problems: Problems
  readonly #trust = new TrustTally()
  readonly #verifications = new VerificationTracker()
  readonly #keyEvents: KeyEvent[] = []
  #ctx: MessageContext | null = null
  #header: Record<string, unknown> | null = null
  #trailer: Record<string, unknown> | null = null
  /** The acceptance the next message line may belong to. */
  #pending: { id: string; v: MessageVerification } | null = null
  #lineNo = 0
  #messages = 0

  constructor(options: { readonly maxProblems?: number } = {}) {
    this.#log = new AuditStreamVerifier(options)
    this.#problems = new Problems(options.maxProblems ?? 1000)
  }

  /** The header, once read (size, checkpoint, note, keys …). */
  get header(): Record<string, unknown> | null {
    return this.#header
  }

  /** Entries checked so far. */
  get entries(): number {
    return this.#log.count
  }

  /** Feed one line (without its newline). */
  line(text: string): void {
    this.#lineNo += 1
    if (text.trim() === '') return
    let value: Line
    try {
      value = JSON.parse(text) as Line
    } catch {
      return this.#log.report(`line ${this.#lineNo} is not JSON`)
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return this.#log.report(`line ${this.#lineNo} is not a JSON object`)
    }
    const repeated = duplicateJsonKey(text) // JSON.parse kept the last of the two: what was hashed is not what is read
    if (repeated !== undefined) return this.#log.report(`line ${this.#lineNo} repeats the member "${repeated}"`)
    if (this.#trailer !== null) return this.#log.report(`line ${this.#lineNo} comes after the end line`)
    if (this.#header === null) return this.#readHeader(value)
    this.#dispatch(value)
  }

  #readHeader(value: Line): void {
    if (value.format !== AUDIT_NDJSON_FORMAT || value.type !== 'header') {
      return this.#log.report(`line 1 is not the header of a ${AUDIT_NDJSON_FORMAT} export`)
    }
    this.#header = value
    this.#log.header(value)
  }

  #dispatch(value: Line): void {
    const pending = this.#pending
    this.#pending = null
    switch (value.type) {
      case 'keyEvent':
        if (this.#log.count > 0) return this.#log.report(`line ${this.#lineNo}: a key event after the entries began`)
        this.#keyEvents.push(value.event as KeyEvent)
        return
      case 'checkpoint':
        return this.#log.checkpoint(value.checkpoint)
      case 'entry':
        return this.#entry(value.entry, value.leaf)
      case 'message':
        return this.#message(value.message as ExportedMessage, pending)
      case 'end':
        this.#trailer = value
        return
      default:
        // lines of a later version of the format are skipped
        return
    }
  }

  #entry(entry: unknown, leaf: unknown): void {
    this.#log.entry(entry, leaf) // reports a malformed entry; trust and verifications read what they can
    if (typeof entry !== 'object' || entry === null || typeof (entry as AuditEntry).data !== 'object') return
    const e = entry as AuditEntry
    this.#trust.add(e)
    const v = this.#verifications.add(e)
    if (v !== null && typeof e.envelopeId === 'string') this.#pending = { id: e.envelopeId, v }
  }

  #message(m: ExportedMessage, pending: { id: string; v: MessageVerification } | null): void {
    this.#messages += 1
    const ctx = (this.#ctx ??= {
      derived: new Map(),
      kels: keyLogs(this.#keyEvents),
      kelVerdicts: new Map(),
      problems: this.#problems,
    })
    ctx.derived.clear()
    if (pending !== null && pending.id === m.id) ctx.derived.set(pending.id, pending.v)
    checkMessage(m, this.#messages - 1, ctx)
  }

  /** The verdict, in the shape `checkAuditExport` gives. */
  finish(): ExportCheck {
    if (this.#header !== null && this.#trailer === null) {
      this.#log.report('the export ends before its end line: it was cut short')
    }
    const log = this.#log.finish()
    let scoresChecked = 0
    const t = this.#trailer
    if (t !== null) {
      scoresChecked = checkTrustScores(t, this.#trust.ledger(), this.#problems)
      checkSummary(t, this.#messages, this.#log.count, this.#problems)
      if (t.messages !== this.#messages) {
        this.#problems.add(
          'summary',
          'messages',
          `the end line counts ${String(t.messages)} messages; ${this.#messages} came`,
        )
      }
    }
    return {
      ok: log.ok && this.#problems.list.length === 0,
      log,
      messagesChecked: this.#messages,
      scoresChecked,
      problems: this.#problems.list,
    }
  }
}
