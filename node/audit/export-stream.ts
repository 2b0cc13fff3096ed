/**
 * The audit export as NDJSON (docs/audit.md, `GET /audit/export` with
 * `Accept: application/x-ndjson` or `?format=ndjson`), produced in pages so
 * the node's memory does not grow with the log:
 *
 * 1. a header: `{format, type: "header", size, checkpoint, note, nodePublicKey, keyLog?, logKeys, witnesses, …}`;
 * 2. one `{type: "keyEvent", event}` line per key event the node holds when the
 *    export begins, read a page at a time;
 * 3. the entries [0, size) in order, each `{type: "entry", leaf, entry}`,
 *    with `{type: "message", message}` right after the entry that records
 *    the message's acceptance (when the node still stores it), and
 *    `{type: "checkpoint", checkpoint}` right after the entry that completes
 *    the prefix an older checkpoint signed;
 * 4. the lists, one line each, read a page at a time: `{type: "agent", agent}`
 *    (its trust replayed over the entries), `{type: "connection", connection}`,
 *    `{type: "revoked", revoked}`, `{type: "trust", of: "agent" | "peer" |
 *    "connection", …}`;
 * 5. a trailer `{type: "end", entries, messages, summary, lists, trust: {formula, params}}`,
 *    `lists` counting the lines of each list (version 1 put the lists here).
 *
 * One tree size throughout: the header's checkpoint signs exactly `size`
 * entries; the log is append-only, so entries below `size` read in later
 * pages are those the checkpoint signed; trust is replayed over them.
 */
import { refusalsIn } from '../core/audit-refusals.js'
import { AUDIT_NDJSON_FORMAT } from '../core/audit-stream.js'
import { toB64, trustScore, type AuditEntry, type ChkEnvelope, type KeyEvent } from '../core/index.js'
import type { KeyEventCursor, MessageRow, Store } from '../store/index.js'
import { messageView } from '../core/message-view.js'
import { AgentTally, summaryOf } from './export-summary.js'
import type { MessageView } from '../core/views.js'
import { VerificationTracker, type MessageVerification } from './message-verification.js'
import { TrustTally, pairKey } from './trust-ledger.js'

/**
 * Entries read per page (one yielded chunk, about 55 KB). Small on purpose:
 * the page's rows and its chunk string are what the export holds at once,
 * and V8 sizes its heap by them — at 1 000 per page a 500 000-entry export
 * peaked at 150 MB RSS, at 100 at 96 MB (docs/benchmarks.md, audit-stream).
 */
const PAGE = 128
/** Messages read ahead while looking for one whose arrival order differs from its log order. */
const LOOKAHEAD = 10_000

/** What the stream is made of, read by `AuditService.ndjsonSource`. */
export interface NdjsonSource {
  readonly store: Store
  /** The checkpoint of exactly the exported size. */
  readonly checkpoint: ChkEnvelope
  /** Older checkpoints under the current key, by size. */
  readonly checkpoints: readonly ChkEnvelope[]
  readonly nodePublicKey: string
  readonly keyLog?: readonly KeyEvent[]
}

/** What the faces add: the header's extra fields and the lists, each read a page at a time. */
export interface NdjsonExtras {
  /** Extra header fields (node, exportedAt, note, logKeys, witnesses). */
  readonly header: Readonly<Record<string, unknown>>
  readonly agents: () => Iterable<{ readonly did: string; readonly status?: string }>
  readonly connections: () => Iterable<{ readonly fromDid: string; readonly toDid: string }>
  readonly revoked: () => Iterable<unknown>
  readonly trustFormula: string
  readonly trustParams: unknown
}

type Evidence = { successes: number; failures: number; revoked?: boolean }
const ZERO: Evidence = { successes: 0, failures: 0 }
const view = (e: Evidence): { score: number; successes: number; failures: number } => ({
  score: trustScore(e),
  successes: e.successes,
  failures: e.failures,
})

/** The NDJSON export, in chunks of whole lines. */
export function* ndjsonExport(src: NdjsonSource, extras: NdjsonExtras): Generator<string> {
  const size = src.checkpoint.size
  const keyEvents = src.store.keyEvents.extent()
  yield line({
    format: AUDIT_NDJSON_FORMAT,
    type: 'header',
    version: 2,
    size,
    ...extras.header,
    checkpoint: src.checkpoint,
    nodePublicKey: src.nodePublicKey,
    ...(src.keyLog !== undefined && src.keyLog.length > 0 ? { keyLog: src.keyLog } : {}),
    keyEvents: keyEvents.count,
  })
  yield* keyEventChunks(src.store, keyEvents.last)
  const older = [...src.checkpoints].sort((a, b) => a.size - b.size)
  let nextOlder = 0
  const olderAt = (n: number): string => {
    let out = ''
    for (let c = older[nextOlder]; c !== undefined && c.size <= n; c = older[++nextOlder]) {
      if (c.size === n) out += line({ type: 'checkpoint', checkpoint: c })
    }
    return out
  }
  yield olderAt(0)
  const walk = new LogWalk(src.store)
  for (let start = 0; start < size; start += PAGE) {
    let chunk = ''
    for (const row of src.store.auditEntries.entries(start, Math.min(PAGE, size - start))) {
      chunk += `{"type":"entry","leaf":"${toB64(row.leafHash)}","entry":${row.entry}}\n`
      chunk += walk.add(JSON.parse(row.entry) as AuditEntry)
      chunk += olderAt(row.index + 1)
    }
    yield chunk
  }
  const lists = new ListLines()
  yield* listChunks(walk, extras, lists)
  yield line(trailer(walk, size, keyEvents.count, extras, lists))
}

/**
 * The key event lines, `PAGE` events per chunk (by DID, each log in order),
 * of the events stored up to rowid `last`: those the header counted, read a
 * page at a time and never all held at once (decision 0046).
 */
function* keyEventChunks(store: Store, last: number): Generator<string> {
  let after: KeyEventCursor | undefined
  for (;;) {
    const page = store.keyEvents.eventsAfter(after, PAGE, last)
    if (page.length === 0) return
    yield page.map(({ event }) => line({ type: 'keyEvent', event })).join('')
    after = page.at(-1)
  }
}

function line(value: unknown): string {
  return JSON.stringify(value) + '\n'
}

/** How many lines of each list were written, and the agents' tally for the summary. */
class ListLines {
  readonly agents = new AgentTally()
  readonly counts = { agents: 0, connections: 0, revoked: 0, trustAgents: 0, trustPeers: 0, trustConnections: 0 }
}

/** `lines` in chunks of `PAGE` lines. */
function* paged(lines: Iterable<string>): Generator<string> {
  let chunk = ''
  let n = 0
  for (const l of lines) {
    chunk += l
    if (++n % PAGE === 0) {
      yield chunk
      chunk = ''
    }
  }
  if (chunk !== '') yield chunk
}

/** The list lines: agents with trust replayed over the exported entries, connections, revocations, trust. */
function* listChunks(walk: LogWalk, extras: NdjsonExtras, lists: ListLines): Generator<string> {
  const ledger = walk.trust.ledger()
  const c = lists.counts
  yield* paged(
    (function* () {
      for (const a of extras.agents()) {
        const agent = { ...a, trustScore: trustScore(ledger.dids.get(a.did) ?? ZERO) }
        lists.agents.add(agent)
        c.agents += 1
        yield line({ type: 'agent', agent })
      }
      for (const conn of extras.connections()) {
        c.connections += 1
        const trust = view(ledger.pairs.get(pairKey(conn.fromDid, conn.toDid)) ?? ZERO)
        yield line({ type: 'connection', connection: { ...conn, trust } })
      }
      for (const revoked of extras.revoked()) {
        c.revoked += 1
        yield line({ type: 'revoked', revoked })
      }
      for (const [did, e] of ledger.dids) {
        c.trustAgents += 1
        yield line({ type: 'trust', of: 'agent', did, ...view(e) })
      }
      for (const [peer, e] of ledger.peers) {
        c.trustPeers += 1
        yield line({ type: 'trust', of: 'peer', peer, ...view(e) })
      }
      for (const [key, e] of ledger.pairs) {
        const [a, b] = key.split(' ') as [string, string]
        c.trustConnections += 1
        yield line({ type: 'trust', of: 'connection', a, b, ...view(e) })
      }
    })(),
  )
}

/** The end line: counts, the summary, and how many lines each list had. */
function trailer(
  walk: LogWalk,
  size: number,
  keyEvents: number,
  extras: NdjsonExtras,
  lists: ListLines,
): Record<string, unknown> {
  return {
    type: 'end',
    entries: size,
    messages: walk.messages,
    summary: summaryOf(lists.agents, {
      messages: walk.messages,
      rejected: walk.rejected,
      connections: lists.counts.connections,
      keyEvents,
      entries: size,
    }),
    lists: lists.counts,
    trust: { formula: extras.trustFormula, params: extras.trustParams },
  }
}

/** Follows the log: trust evidence, and the message line each acceptance entry is followed by. */
class LogWalk {
  readonly trust = new TrustTally()
  readonly #verifications = new VerificationTracker()
  readonly #messages: MessageCursor
  messages = 0
  rejected = 0

  constructor(store: Store) {
    this.#messages = new MessageCursor(store)
  }

  /** Take one entry; returns the message line that goes after it, or ''. */
  add(entry: AuditEntry): string {
    this.trust.add(entry)
    this.rejected += refusalsIn(entry) // a refusal summary counts what it sums up (decision 0053)
    const v = this.#verifications.add(entry)
    if (v === null || entry.envelopeId === null) return ''
    const row = this.#messages.find(entry.envelopeId)
    if (row === undefined) return ''
    this.messages += 1
    return line({ type: 'message', message: exportedMessage(row, v) })
  }
}

/**
 * Stored messages by id, read in arrival order alongside the log (a message
 * and the entry of its acceptance commit in one transaction, so both orders
 * agree); a message read ahead waits in a small buffer.
 */
class MessageCursor {
  readonly #ahead = new Map<string, MessageRow>()
  readonly #rows: Iterator<MessageRow>
  readonly #store: Store

  constructor(store: Store) {
    this.#store = store
    this.#rows = store.messages.iterate()
  }

  find(id: string): MessageRow | undefined {
    const held = this.#ahead.get(id)
    if (held !== undefined) {
      this.#ahead.delete(id)
      return held
    }
    if (!this.#store.messages.exists(id)) return undefined // removed by retention
    for (let read = 0; read < LOOKAHEAD; read++) {
      const next = this.#rows.next()
      if (next.done === true) return undefined
      if (next.value.id === id) return next.value
      this.#ahead.set(next.value.id, next.value)
    }
    return undefined
  }
}

/** A stored message as the export shows it (the fields of `GET /messages`, and its verification). */
function exportedMessage(
  row: MessageRow,
  verification: MessageVerification,
): MessageView & {
  verification: MessageVerification
} {
  return { ...messageView(row), verification }
}
