/**
 * The summary `meshsig audit` prints and `meshsig_audit` answers (docs/audit.md):
 * read from the node's NDJSON export as it streams, keeping only its header
 * (node, time, checkpoint), the count of older checkpoints and its end line
 * (the summary). Memory does not grow with the log, and no JSON export is
 * built whole on the node (at most one a `limits.jsonExport.intervalMs` above
 * `limits.jsonExport.entries`, and hundreds of MB at a million entries).
 */
import type { ExportSummary } from '../../node/audit/export-summary.js'
import { MeshsigError } from '../../node/core/errors.js'
import type { CliContext } from '../context.js'
import { NDJSON_IDLE_MS, eachLine, fetchNdjson } from './audit-stream.js'

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

/** The summary of the node's export at `size` (default: its current checkpoint's); `idleMs`: see `fetchNdjson`. */
export async function readAuditSummary(ctx: CliContext, size?: number, idleMs = NDJSON_IDLE_MS): Promise<AuditSummary> {
  const body = await fetchNdjson(ctx, size, idleMs)
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
