/**
 * `checkAuditExport` for the NDJSON export (docs/audit.md), one line at a
 * time: the log through the core's `AuditStreamVerifier` (constant memory),
 * each message line against the acceptance entry right before it, the trust
 * scores and summary of the trailer against the evidence replayed on the
 * way. Memory grows with key events, DIDs, peers and pairs, never with the
 * entries or messages. Pure: the caller reads the lines.
 */
import { AUDIT_NDJSON_FORMAT, AUDIT_NDJSON_FORMATS, AuditStreamVerifier } from '../core/audit-stream.js'
import { refusalsIn } from '../core/audit-refusals.js'
import { duplicateJsonKey, type KeyEvent } from '../core/index.js'
import {
  Problems,
  checkMessage,
  checkSummary,
  checkTrustScores,
  hasData,
  uncheckedLog,
  uncheckedWhy,
  type ExportCheck,
  type ExportedMessage,
  type MessageContext,
} from './export-check.js'
import { VerificationTracker, type MessageVerification } from './message-verification.js'
import { keyLogs } from './export-key-logs.js'
import { TOO_DEEP, lineNestsTooDeep, quoteValue } from './untrusted-value.js'
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
  readonly #trust = new TrustTally({ legacyPairs: true })
  readonly #verifications = new VerificationTracker()
  readonly #keyEvents: KeyEvent[] = []
  #ctx: MessageContext | null = null
  #header: Record<string, unknown> | null = null
  #trailer: Record<string, unknown> | null = null
  /** The list lines of a version 2 export, gathered for the end line's checks. */
  readonly #lists = new ListLines()
  /** The acceptance the next message line may belong to. */
  #pending: { id: string; v: MessageVerification } | null = null
  #lineNo = 0
  #messages = 0
  /** Refusals the entries record, for the end line's summary. */
  #refusals = 0

  readonly #legacyTrust: boolean

  /** `legacyTrust`: verify a version 1 export's connections by `TRUST_FORMULA_V1` when it names it (node/audit/trust-check.ts). */
  constructor(options: { readonly maxProblems?: number; readonly legacyTrust?: boolean } = {}) {
    this.#log = new AuditStreamVerifier(options)
    this.#problems = new Problems(options.maxProblems ?? 1000)
    this.#legacyTrust = options.legacyTrust === true
  }

  /** The header, once read (size, checkpoint, note, keys …). */
  get header(): Record<string, unknown> | null {
    return this.#header
  }

  /** Entries checked so far. */
  get entries(): number {
    return this.#log.count
  }

  /**
   * Feed one line (without its newline). A line whose checks overflow the
   * stack or stop on any other error is a problem of the verdict, never a
   * pass (untrusted-value.ts; docs/audit.md, "What verify checks").
   */
  line(text: string): void {
    this.#lineNo += 1
    try {
      this.#line(text)
    } catch (err) {
      this.#log.report(`line ${this.#lineNo} could not be checked: ${uncheckedWhy(err)}`)
    }
  }

  #line(text: string): void {
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
    if (lineNestsTooDeep(value)) return this.#log.report(`line ${this.#lineNo}: ${TOO_DEEP}`)
    const repeated = duplicateJsonKey(text) // JSON.parse kept the last of the two: what was hashed is not what is read
    if (repeated !== undefined) return this.#log.report(`line ${this.#lineNo} repeats the member "${repeated}"`)
    if (this.#trailer !== null) return this.#log.report(`line ${this.#lineNo} comes after the end line`)
    if (this.#header === null) return this.#readHeader(value)
    this.#dispatch(value)
  }

  #readHeader(value: Line): void {
    if (typeof value.format !== 'string' || !AUDIT_NDJSON_FORMATS.includes(value.format) || value.type !== 'header') {
      return this.#log.report(`line 1 is not the header of a ${AUDIT_NDJSON_FORMATS.join(' or ')} export`)
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
      case 'agent':
      case 'connection':
      case 'revoked':
      case 'trust':
        return this.#lists.add(value, this.#lineNo, this.#log)
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
    if (!hasData(entry)) return
    this.#trust.add(entry)
    this.#refusals += refusalsIn(entry)
    const v = this.#verifications.add(entry)
    if (v !== null && typeof entry.envelopeId === 'string') this.#pending = { id: entry.envelopeId, v }
  }

  #message(m: ExportedMessage, pending: { id: string; v: MessageVerification } | null): void {
    this.#messages += 1
    const ctx = (this.#ctx ??= {
      derived: new Map(),
      kels: keyLogs(this.#keyEvents),
      problems: this.#problems,
    })
    ctx.derived.clear()
    const id = typeof m === 'object' && m !== null ? m.id : undefined // checkMessage names a line that is no object
    if (pending !== null && pending.id === id) ctx.derived.set(pending.id, pending.v)
    checkMessage(m, this.#messages - 1, ctx)
  }

  /** The verdict, in the shape `checkAuditExport` gives. */
  finish(): ExportCheck {
    if (this.#header !== null && this.#trailer === null) {
      this.#log.report('the export ends before its end line: it was cut short')
    }
    let log
    try {
      log = this.#log.finish()
    } catch (err) {
      log = uncheckedLog(this.#log.count, `the log could not be checked: ${uncheckedWhy(err)}`)
    }
    let scoresChecked = 0
    try {
      scoresChecked = this.#checkEnd()
    } catch (err) {
      this.#problems.add('summary', 'end', `the end line could not be checked: ${uncheckedWhy(err)}`)
    }
    return {
      ok: log.ok && this.#problems.list.length === 0,
      log,
      messagesChecked: this.#messages,
      scoresChecked,
      problems: this.#problems.list,
    }
  }

  /** The key event count, lists, trust scores and summary against what came; returns the scores compared. */
  #checkEnd(): number {
    let scoresChecked = 0
    const report = (subject: string, message: string): void => this.#problems.add('summary', subject, message)
    this.#checkKeyEventCount(report)
    const t = this.#trailer === null ? null : this.#lists.into(this.#trailer, this.#header, report)
    if (t !== null) {
      // a version 2 export never names the old formula: it was made after decision 0051
      const legacyTrust = this.#legacyTrust && this.#header?.format !== AUDIT_NDJSON_FORMAT
      scoresChecked = checkTrustScores(t, this.#trust.ledger(), this.#problems, { legacyTrust })
      const counts = { messages: this.#messages, entries: this.#log.count, refusals: this.#refusals }
      checkSummary(t, counts, this.#problems)
      if (t.messages !== this.#messages) {
        this.#problems.add(
          'summary',
          'messages',
          `the end line counts ${quoteValue(t.messages)} messages; ${this.#messages} came`,
        )
      }
      // held to the entries that came, as the JSON form's summary.auditEntries is (review 128 F3)
      if (t.entries !== this.#log.count) {
        report('entries', `the end line counts ${quoteValue(t.entries)} entries; ${this.#log.count} came`)
      }
    }
    return scoresChecked
  }

  /**
   * The header counts the key event lines that follow it (docs/audit.md):
   * a key event left out, like a list line, is a problem, since a message is
   * re-verified only under a key its signer's events prove.
   */
  #checkKeyEventCount(report: (subject: string, message: string) => void): void {
    if (this.#header === null) return
    const counted = this.#header.keyEvents
    if (counted === undefined) report('keyEvents', 'the header does not count its key event lines (keyEvents)')
    else if (counted !== this.#keyEvents.length) {
      report('keyEvents', `the header counts ${quoteValue(counted)} key events; ${this.#keyEvents.length} came`)
    }
  }
}

type ListName = 'agents' | 'connections' | 'revoked' | 'trustAgents' | 'trustPeers' | 'trustConnections'

/**
 * The list lines of a version 2 export (docs/audit.md): each agent,
 * connection, revocation and trust row on a line of its own, gathered into
 * the shape the end line of version 1 had, so that the same checks read
 * them. The end line's `lists` must count exactly the lines that came: a
 * file cut or spliced within the lists is a problem.
 */
class ListLines {
  readonly #rows: Record<ListName, unknown[]> = {
    agents: [],
    connections: [],
    revoked: [],
    trustAgents: [],
    trustPeers: [],
    trustConnections: [],
  }
  #any = false

  /** Keep one list line (a line of no known shape is a problem of the log's reading, as a malformed line is). */
  add(value: Line, lineNo: number, log: AuditStreamVerifier): void {
    const name = listOf(value)
    if (name === undefined) return log.report(`line ${lineNo} is a ${quoteValue(value.type)} line of no known shape`)
    this.#any = true
    const row = value.type === 'trust' ? withoutTypeOf(value) : value[value.type as string]
    this.#rows[name].push(row)
  }

  /** The end line with the lists a version 2 export gave line by line (version 1: the end line as it is). */
  into(
    end: Record<string, unknown>,
    header: Record<string, unknown> | null,
    report: (subject: string, message: string) => void,
  ): Record<string, unknown> {
    if (header?.format !== AUDIT_NDJSON_FORMAT) {
      if (this.#any) report('lists', 'a version 1 export with list lines: they are not part of its format')
      return end
    }
    const trustIn = (typeof end.trust === 'object' && end.trust !== null ? end.trust : {}) as Record<string, unknown>
    const lists = [end.agents, end.connections, end.revoked, trustIn.agents, trustIn.peers, trustIn.connections]
    if (lists.some((l) => l !== undefined)) {
      report('lists', 'a version 2 end line holds lists: they are not part of its format (its lists are lines)')
    }
    const counted = (end.lists ?? {}) as Partial<Record<ListName, unknown>>
    for (const name of Object.keys(this.#rows) as ListName[]) {
      if (counted[name] !== this.#rows[name].length) {
        report(
          `lists.${name}`,
          `the end line counts ${quoteValue(counted[name])} ${name} lines; ${this.#rows[name].length} came`,
        )
      }
    }
    const trust = (typeof end.trust === 'object' && end.trust !== null ? end.trust : {}) as Record<string, unknown>
    const r = this.#rows
    return {
      ...end,
      agents: r.agents,
      connections: r.connections,
      revoked: r.revoked,
      trust: { ...trust, agents: r.trustAgents, peers: r.trustPeers, connections: r.trustConnections },
    }
  }
}

function listOf(value: Line): ListName | undefined {
  switch (value.type) {
    case 'agent':
      return typeof value.agent === 'object' && value.agent !== null ? 'agents' : undefined
    case 'connection':
      return typeof value.connection === 'object' && value.connection !== null ? 'connections' : undefined
    case 'revoked':
      return typeof value.revoked === 'object' && value.revoked !== null ? 'revoked' : undefined
    case 'trust':
      return value.of === 'agent'
        ? 'trustAgents'
        : value.of === 'peer'
          ? 'trustPeers'
          : value.of === 'connection'
            ? 'trustConnections'
            : undefined
    default:
      return undefined
  }
}

/** A trust line's row: its fields without `type` and `of`. */
function withoutTypeOf(value: Line): Record<string, unknown> {
  const { type: _type, of: _of, ...row } = value
  return row
}
