/**
 * The summary `meshsig audit` prints and `meshsig_audit` answers (docs/audit.md):
 * read from the node's NDJSON export as it streams, keeping only its header
 * (node, time, checkpoint), the count of older checkpoints and its end line
 * (the summary). Memory does not grow with the log, and no JSON export is
 * built whole on the node (at most one a `limits.jsonExport.intervalMs` above
 * `limits.jsonExport.entries`, and hundreds of MB at a million entries).
 * Nor does its time: the whole read has a deadline (`MESHSIG_AUDIT_DEADLINE`).
 */
import type { ExportSummary } from '../../node/audit/export-summary.js'
import { MeshsigError } from '../../node/core/errors.js'
import type { CliContext } from '../context.js'
import { eachLine } from './audit-stream.js'
import { fetchNdjson, type NdjsonDeadlines } from './ndjson-fetch.js'

/** The signed checkpoint as the summary shows it. */
export interface SummaryCheckpoint {
  readonly origin: string
  readonly size: number
  readonly root: string
  /** ms since the epoch. */
  readonly ts: number
}

/** What an audit summary shows. */
export interface AuditSummary {
  readonly node: { readonly did: string; readonly name: string }
  readonly exportedAt: string
  readonly summary: ExportSummary
  readonly checkpoint: SummaryCheckpoint
  /** Older checkpoints the export carries. */
  readonly earlierCheckpoints: number
}

interface Header {
  readonly exportedAt?: string
  readonly node?: { readonly did: string; readonly name: string }
  readonly checkpoint?: SummaryCheckpoint
}

/**
 * Most characters of a line the summary reads: the end line lists every agent
 * (about 600 bytes each), so this holds a registry well past the default bound
 * of 250,000 agents while keeping a hostile server from filling the memory.
 */
const MAX_SUMMARY_LINE = 256 * 1024 * 1024

/** `line` parsed, or `PEER_ERROR`: what answered is no meshsig node's export. */
function parsed<T>(line: string, server: string): T {
  try {
    return JSON.parse(line) as T
  } catch {
    throw new MeshsigError('PEER_ERROR', `${server} did not answer a meshsig audit export`)
  }
}

/** Environment variable with the most seconds the summary's read may take. */
export const AUDIT_DEADLINE_ENV = 'MESHSIG_AUDIT_DEADLINE'

/**
 * Most time the summary's read takes by default (ms): ten minutes. The node
 * streams its export at tens of thousands of entries a second
 * (docs/benchmarks.md: 2,000,000 entries in 22 s), so that holds logs far
 * larger than any yet measured; a larger one sets `MESHSIG_AUDIT_DEADLINE`.
 * A server that is not the node, sending what the summary does not keep
 * (review 92 F3), holds the reader no longer than this.
 */
export const AUDIT_SUMMARY_DEADLINE_MS = 10 * 60_000

/** The summary's deadline in ms: `MESHSIG_AUDIT_DEADLINE` (seconds, 1 to 86,400) when set, else the default. */
export function summaryDeadlineMs(ctx: CliContext): number {
  const given = ctx.io.env[AUDIT_DEADLINE_ENV]
  if (given === undefined || given === '') return AUDIT_SUMMARY_DEADLINE_MS
  const seconds = /^\d{1,5}$/.test(given) ? Number(given) : NaN
  if (!(seconds >= 1 && seconds <= 86_400)) {
    const why = `${AUDIT_DEADLINE_ENV} is a number of seconds from 1 to 86400, not '${given.slice(0, 32)}'`
    throw new MeshsigError('INVALID_INPUT', why, { field: AUDIT_DEADLINE_ENV })
  }
  return seconds * 1000
}

/**
 * The summary of the node's export at `size` (default: its current
 * checkpoint's), given up as `deadlines` say (see `fetchNdjson`); the whole
 * read within `summaryDeadlineMs` unless `deadlines.totalMs` says otherwise.
 */
export async function readAuditSummary(
  ctx: CliContext,
  size?: number,
  deadlines: NdjsonDeadlines = {},
): Promise<AuditSummary> {
  const body = await fetchNdjson(ctx, size, { totalMs: summaryDeadlineMs(ctx), ...deadlines })
  let header: Header | undefined
  let end: { summary?: ExportSummary } | undefined
  let earlier = 0
  let first = true
  // only three kinds of line are read; entries, key events and messages are dropped as they come, never held
  const wanted = (start: string): boolean => {
    const keep = first || start.startsWith('{"type":"checkpoint"') || start.startsWith('{"type":"end"')
    first = false
    return keep
  }
  await eachLine(
    body,
    (line) => {
      if (header === undefined) header = parsed<Header>(line, ctx.server)
      else if (line.startsWith('{"type":"checkpoint"')) earlier += 1
      else end = parsed<typeof end>(line, ctx.server)
    },
    { wanted, maxLength: MAX_SUMMARY_LINE },
  )
  const { node, exportedAt, checkpoint } = header ?? {}
  if (node === undefined || exportedAt === undefined || checkpoint === undefined || end?.summary === undefined) {
    throw new MeshsigError('UNREACHABLE', `the audit export of ${ctx.server} ended early: try again`)
  }
  return {
    node: { did: node.did, name: node.name },
    exportedAt,
    summary: end.summary,
    checkpoint,
    earlierCheckpoints: earlier,
  }
}
