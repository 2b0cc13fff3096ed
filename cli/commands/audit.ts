/**
 * `meshsig audit`: the node's audit export, and its offline verification.
 *
 * - `meshsig audit` prints a summary (read from the streamed export:
 *   audit-summary.ts); `meshsig audit --json > report.json`
 *   (or `--out report.json`) writes the whole export (every agent,
 *   connection, message, key event and audit entry, with the signed
 *   checkpoint and the node's public key); `--size N` exports the state of
 *   a past checkpoint of N entries.
 * - `meshsig audit verify report.json` (or `-` for stdin) needs no node: it
 *   recomputes the Merkle root, checks the checkpoint signature, names each
 *   entry that was altered, removed or reordered, re-verifies every message
 *   from its envelope and recomputes every trust score. Exit 0 when all of it
 *   checks out, 1 when anything does not, 2 when the file is not an export.
 *   On a terminal a progress bar runs on stderr.
 * - `meshsig audit --ndjson [--out FILE] [--size N]` streams the export as
 *   NDJSON (docs/audit.md) as it arrives; `audit verify` reads either form,
 *   NDJSON line by line in memory that does not grow with the file.
 * - `--witnesses K` requires K cosignatures on the checkpoint note, from the
 *   `--witness-key` vkeys (repeatable) or a `--policy` file, else from the
 *   witnesses the export lists.
 */
import { closeSync, readFileSync, writeSync } from 'node:fs'
import { checkAuditNote, parseWitnessPolicy, type NoteCheck, type WitnessPolicy } from '../../node/core/audit-note.js'
import { isNdjsonExport } from '../../node/audit/export-stream-check.js'
import {
  type Chunks,
  type StdinExport,
  downloadNdjson,
  fileIsNdjson,
  openOut,
  sniffStdin,
  verifyNdjson,
  verifyNdjsonFile,
} from './audit-stream.js'
import type { CAC } from 'cac'
import { checkAuditExport, type ExportCheck } from '../../node/audit/export-check.js'
import { MeshsigError } from '../../node/core/errors.js'
import { duplicateJsonKey } from '../../node/core/json-duplicate-keys.js'
import { oneLine, quoted } from '../../node/core/untrusted-text.js'
import { readAuditSummary, type AuditSummary } from './audit-summary.js'
import type { AuditReport } from '../../api/client.js'
import { apiClient } from '../api-client.js'
import type { CliContext, CliRuntime, GlobalOptions } from '../context.js'
import { FAIL, OK, block, type CommandResult } from '../output.js'
import { progressBar } from '../progress.js'

/** Most problems listed in human output (all are in --json). */
const MAX_LISTED = 50

/** Options of `meshsig audit` and `meshsig audit verify`. */
export interface AuditOptions {
  /** Stream the export as NDJSON. */
  readonly ndjson?: boolean
  /** Write the NDJSON export to this file (default stdout). */
  readonly out?: string
  /** Export the state of a past checkpoint of this size. */
  readonly size?: number
  /** Cosignatures required on the checkpoint note. */
  readonly witnesses?: number
  /** Witness vkeys the auditor trusts. */
  readonly witnessKey?: readonly string[]
  /** A policy file: `witness <vkey>` and `quorum <K>` lines. */
  readonly policy?: string
  /** Verify connections by the formula before decision 0051 when the export names it (node/audit/trust-check.ts). */
  readonly legacyTrust?: boolean
}

/** Export the audit report of the node at `--server`. */
export async function auditCommand(ctx: CliContext, opts: AuditOptions = {}): Promise<CommandResult> {
  if (opts.ndjson === true) {
    if (opts.out === undefined && ctx.json) {
      throw new MeshsigError('INVALID_INPUT', '--ndjson writes the export itself to stdout: use --out FILE with --json')
    }
    const bytes = await downloadNdjson(ctx, opts)
    if (opts.out === undefined) return { json: {}, human: '' }
    return {
      json: { file: opts.out, bytes },
      human: `${OK} NDJSON audit export written to ${opts.out} (${bytes} bytes)`,
    }
  }
  // the summary alone is read from the streamed export: the JSON export is built whole on the node
  if (!ctx.json && opts.out === undefined) return summaryResult(await readAuditSummary(ctx, opts.size))
  const report = await apiClient(ctx).auditExport(opts.size)
  if (opts.out !== undefined) return writeExport(opts.out, report)
  return { json: report as unknown as Record<string, unknown>, human: summaryResult(report).human }
}

/** `meshsig audit` without --json: the counts and the signed checkpoint. */
function summaryResult(report: Pick<AuditSummary, 'node' | 'exportedAt' | 'summary' | 'checkpoint'>): CommandResult {
  const s = report.summary
  return {
    json: { ...report },
    human: block(`${OK} Audit report of ${quoted(String(report.node.name))} (${oneLine(String(report.exportedAt))})`, [
      ['Agents', `${s.totalAgents} (${s.activeAgents} active, ${s.revokedAgents} revoked)`],
      ['Messages', `${s.totalMessages} verified, ${s.failedVerifications} rejected`],
      ['Connections', String(s.totalConnections)],
      ['Average trust', s.averageTrust.toFixed(2)],
      ['Key events', String(s.keyEvents)],
      ['Audit entries', `${s.auditEntries} (checkpoint root ${report.checkpoint.root})`],
      ['Full export', 'meshsig audit --json > report.json'],
      ['Check it offline', 'meshsig audit verify report.json'],
    ]),
  }
}

/** `meshsig audit --out FILE`: the JSON export written to FILE, as `--json > FILE` would. */
function writeExport(file: string, report: AuditReport): CommandResult {
  const text = JSON.stringify(report) + '\n'
  const fd = openOut(file) // 0600, never through a symbolic link, as the NDJSON export
  try {
    writeSync(fd, text)
  } finally {
    closeSync(fd)
  }
  const bytes = Buffer.byteLength(text)
  return {
    json: { file, bytes, size: report.summary.auditEntries },
    human: `${OK} audit export of ${report.summary.auditEntries} entries written to ${file} (${bytes} bytes)`,
  }
}

function cannotRead(file: string, err: unknown): MeshsigError {
  const why = (err as { code?: string }).code ?? (err instanceof Error ? err.message : String(err))
  return new MeshsigError('INVALID_INPUT', `cannot read ${file} (${why})`, { file })
}

/**
 * The text of `file` (`-`: stdin). When stdin can be streamed and holds an
 * NDJSON export, it goes to `onNdjson` as it arrives instead (constant
 * memory) and the text is ''.
 */
async function readText(ctx: CliContext, file: string, onNdjson: (chunks: Chunks) => Promise<void>): Promise<string> {
  let sniffed: StdinExport | undefined
  try {
    if (file !== '-') return readFileSync(file, 'utf8')
    const chunks = ctx.io.stdinChunks?.()
    if (chunks === undefined) return Buffer.from(await ctx.io.readStdin()).toString('utf8')
    sniffed = await sniffStdin(chunks)
  } catch (err) {
    throw cannotRead(file, err)
  }
  if ('text' in sniffed) return sniffed.text
  await onNdjson(sniffed.ndjson)
  return ''
}

function parseExport(text: string, file: string): unknown {
  let doc: unknown
  try {
    doc = JSON.parse(text) as unknown
  } catch {
    throw new MeshsigError('MALFORMED', `${file} is not JSON: expected the output of meshsig audit --json`, { file })
  }
  // JSON.parse keeps the last of two equal names: what was hashed would not be what a reader sees
  const repeated = duplicateJsonKey(text)
  if (repeated !== undefined) {
    throw new MeshsigError('MALFORMED', `${file} repeats the member "${repeated}" in one object`, { file })
  }
  return doc
}

/** The lines that say what is wrong, most important first, at most `MAX_LISTED`. */
function problemLines(check: ExportCheck): string[] {
  const all = [...check.log.problems.map((p) => p.message), ...check.problems.map((p) => p.message)]
  const hidden = all.length - MAX_LISTED + check.log.omittedProblems
  // a message may quote the export (an id, a peer, a DID): each stays on its line (decision 0055)
  const lines = all.slice(0, MAX_LISTED).map((m) => `  - ${oneLine(m)}`)
  if (hidden > 0) lines.push(`  … and ${hidden} more (see --json)`)
  return lines
}

function verdictJson(file: string, check: ExportCheck, note: NoteCheck | null): Record<string, unknown> {
  const { log } = check
  return {
    ok: check.ok && (note?.ok ?? true),
    file,
    size: log.size,
    root: log.root,
    checkpoint: log.checkpoint,
    diagnosis: log.diagnosis,
    problems: log.problems,
    omittedProblems: log.omittedProblems,
    messagesChecked: check.messagesChecked,
    scoresChecked: check.scoresChecked,
    contentProblems: check.problems,
    note, // null: no note checked (none in the export, and no --witnesses asked for one)
  }
}

/** The witness policy of the options, or null when none was asked for. */
function policyOf(opts: AuditOptions): WitnessPolicy | null {
  const keys = [...(opts.witnessKey ?? [])]
  let quorum = opts.witnesses
  if (opts.policy !== undefined) {
    let policy: WitnessPolicy
    try {
      policy = parseWitnessPolicy(readFileSync(opts.policy, 'utf8'))
    } catch (err) {
      throw new MeshsigError('INVALID_INPUT', `policy ${opts.policy}: ${err instanceof Error ? err.message : ''}`)
    }
    keys.push(...policy.keys)
    quorum ??= policy.quorum
  }
  if (quorum === undefined && keys.length === 0) return null
  if (quorum !== undefined && (!Number.isSafeInteger(quorum) || quorum < 0)) {
    throw new MeshsigError('INVALID_INPUT', '--witnesses is a number of cosignatures (0 or more)')
  }
  return { keys, quorum: quorum ?? keys.length }
}

/** Check the log (either form) with a progress bar; returns the check and the fields the note check reads. */
async function checkFile(
  ctx: CliContext,
  file: string,
  legacyTrust: boolean,
): Promise<{ check: ExportCheck; doc: Record<string, unknown> | null }> {
  const bar = progressBar(ctx.io, { label: 'Verifying audit export', unit: 'entries', delayMs: 250 })
  const onProgress = (done: number, total: number): void => bar.update(done, total)
  let streamed: { check: ExportCheck; doc: Record<string, unknown> | null } | null = null
  try {
    let ndjson: boolean
    try {
      ndjson = file !== '-' && fileIsNdjson(file)
    } catch (err) {
      throw cannotRead(file, err)
    }
    if (ndjson) {
      const r = await verifyNdjsonFile(file, onProgress, legacyTrust)
      return { check: r.check, doc: r.header }
    }
    const text = await readText(ctx, file, async (ndjson) => {
      const r = await verifyNdjson(ndjson, onProgress, legacyTrust)
      streamed = { check: r.check, doc: r.header }
    })
    if (streamed !== null) return streamed
    if (isNdjsonExport(text.slice(0, 256))) {
      const r = await verifyNdjson(text, onProgress, legacyTrust)
      return { check: r.check, doc: r.header }
    }
    const doc = parseExport(text, file)
    return { check: checkAuditExport(doc, { onProgress, legacyTrust }), doc: doc as Record<string, unknown> }
  } finally {
    bar.done()
  }
}

function noteRow(note: NoteCheck): [string, string] {
  const who = note.cosigners.map((c) => c.name).join(', ') || 'none'
  const from = note.keysFrom === 'auditor' ? 'your witness keys' : 'the witnesses the export lists'
  return ['Cosignatures', `${note.cosigners.length} of ${note.quorum} required, from ${from}: ${who}`]
}

/** The listed witnesses that were not counted (a binding that does not check out), each on its line. */
function notCountedLines(note: NoteCheck | null): string[] {
  const lines = (note?.notCounted ?? []).slice(0, MAX_LISTED).map((p) => `  - ${oneLine(p)}`)
  return lines.length === 0 ? [] : ['Witnesses not counted:', ...lines]
}

/** Verify an export file offline; exit 0 when it checks out, 1 when it does not. */
export async function auditVerifyCommand(
  ctx: CliContext,
  file: string | undefined,
  opts: AuditOptions = {},
): Promise<CommandResult> {
  if (file === undefined) throw new MeshsigError('INVALID_INPUT', 'usage: meshsig audit verify <export file | ->')
  const policy = policyOf(opts)
  const { check, doc } = await checkFile(ctx, file, opts.legacyTrust === true)
  const hasNote = doc !== null && typeof doc.note === 'string'
  const note =
    doc !== null && (policy !== null || hasNote) ? checkAuditNote(doc, policy ?? { keys: [], quorum: 0 }) : null
  const chk = check.log.checkpoint
  const rows: Array<[string, string]> = [
    ['Entries', `${check.log.size} (root ${check.log.root})`],
    ['Checkpoint', chk ? `size ${chk.size}, signed by ${chk.origin} at ${new Date(chk.ts).toISOString()}` : 'none'],
    ['Messages', `${check.messagesChecked} re-verified from their envelopes`],
    ['Trust scores', `${check.scoresChecked} recomputed from the entries`],
  ]
  if (note !== null) rows.push(['Note', note.logSigned ? 'signed by the log key' : 'NOT signed'], noteRow(note))
  // an export without its note verifies on its own; say so, or a stripped note passes unnoticed
  else rows.push(['Cosignatures', 'none checked: the export carries no checkpoint note; --witnesses K requires K'])
  const json = verdictJson(file, check, note)
  const uncounted = notCountedLines(note)
  if (json.ok === true) return { json, human: [block(`${OK} Audit export verified`, rows), ...uncounted].join('\n') }
  const heading = `${FAIL} Audit export does NOT verify (${check.log.diagnosis} diagnosis)`
  const noteLines = (note?.problems ?? []).map((p) => `  - ${oneLine(p)}`)
  return {
    json,
    human: [block(heading, rows), 'Problems:', ...problemLines(check), ...noteLines, ...uncounted].join('\n'),
    exitCode: 1,
  }
}

function asList(value: unknown): string[] | undefined {
  if (value === undefined) return undefined
  return (Array.isArray(value) ? value : [value]).map(String)
}

function asNumber(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 0) throw new MeshsigError('INVALID_INPUT', `${flag} is a non-negative integer`)
  return n
}

function optionsOf(o: GlobalOptions): AuditOptions {
  const witnesses = asNumber(o.witnesses, '--witnesses')
  const size = asNumber(o.size, '--size')
  const witnessKey = asList(o.witnessKey)
  return {
    ndjson: o.ndjson === true,
    ...(typeof o.out === 'string' ? { out: o.out } : {}),
    ...(size !== undefined ? { size } : {}),
    ...(witnesses !== undefined ? { witnesses } : {}),
    ...(witnessKey !== undefined ? { witnessKey } : {}),
    ...(typeof o.policy === 'string' ? { policy: o.policy } : {}),
    ...(o.legacyTrust === true ? { legacyTrust: true } : {}),
  }
}

/** Register `audit [action] [file]`. */
export function registerAudit(cli: CAC, rt: CliRuntime): void {
  cli
    .command(
      'audit [action] [file]',
      'Audit log: export it (summary, or everything with --json); verify <file> offline',
    )
    .example('  meshsig audit --json > audit-2026-03.json')
    .option('--ndjson', 'Stream the export as NDJSON (constant memory; to stdout or --out)')
    .option('--out <file>', 'Write the export to this file (JSON, or NDJSON with --ndjson)')
    .option('--size <n>', 'Export the state of a past checkpoint of n entries')
    .option('--witnesses <k>', 'verify: require k cosignatures on the checkpoint note')
    .option('--witness-key <vkey>', 'verify: a witness vkey you trust (repeatable)')
    .option('--policy <file>', 'verify: witness policy file ("witness <vkey>", "quorum <k>" lines)')
    .option(
      '--legacy-trust',
      'verify: score connections as exports made before decision 0051 did, if it names that formula',
    )
    .example('  meshsig audit verify audit-2026-03.json')
    .example('  meshsig audit --ndjson --out audit.ndjson && meshsig audit verify audit.ndjson --witnesses 2')
    .action((action: string | undefined, file: string | undefined, options: GlobalOptions) => {
      const ctx = rt.context(options)
      const opts = optionsOf(options)
      if (action === undefined) return auditCommand(ctx, opts)
      if (action === 'verify') return auditVerifyCommand(ctx, file, opts)
      throw new MeshsigError(
        'INVALID_INPUT',
        `unknown audit action '${action}' (use: meshsig audit, meshsig audit verify <file>)`,
      )
    })
}
