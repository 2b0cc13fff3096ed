/**
 * The audit log as the node runs it, at 10k, 100k and 1M entries: appends
 * through `AuditLog` on a real file-backed SQLite store (WAL,
 * synchronous=FULL), in store transactions as the node makes them (one per
 * envelope, and grouped as the send batcher commits them), with the Merkle
 * frontier and the trust evidence kept in the same transaction; a signed
 * checkpoint (warm, and cold after reopening the store); the export
 * (`AuditService.verifiable()` + JSON); and `meshsig audit verify` on the
 * file (the command's own function: read, parse, `checkAuditExport`).
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { auditVerifyCommand } from '../../cli/commands/audit.js'
import { contextFrom, type CliIo } from '../../cli/context.js'
import { AuditLog, type AuditInput } from '../../node/audit/audit-log.js'
import { AuditService } from '../../node/audit/audit-service.js'
import { createInception, didFromPublicKey, keyPairFromSeed } from '../../node/core/index.js'
import { openStore, type Store } from '../../node/store/index.js'
import { fmtInt, type BenchModule } from './bench-kit.js'

const SIZES = [10_000, 100_000, 1_000_000] as const
/** Entries per transaction when filling the log (group commit, as concurrent sends are committed). */
const GROUP = 256
/** Appends measured with one transaction (and one fsync) each, at the end of the filled log. */
const SINGLES = 2_000
const NODE = keyPairFromSeed(new Uint8Array(32).fill(7))
const NODE_DID = didFromPublicKey(NODE.publicKey)
const NODE_KEY_LOG = [createInception(NODE, 1_764_000_000_000, null)]
const AGENTS = [8, 9, 10, 11].map((s) => didFromPublicKey(keyPairFromSeed(new Uint8Array(32).fill(s)).publicKey))
const PEER = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'

/** The mix of audit/audit.bench.ts: mostly accepted messages, some refusals, peer joins, registrations. */
function inputAt(i: number): AuditInput {
  const envelopeId = (i * 2654435761).toString(16).padStart(64, '0').slice(-64)
  const from = AGENTS[i % AGENTS.length]!
  const to = AGENTS[(i + 1) % AGENTS.length]!
  switch (i % 10) {
    case 7:
      return {
        kind: 'envelope.rejected',
        subject: from,
        envelopeId,
        code: 'REPLAY',
        data: { type: 'msg', to, via: 'gossip', deliveredBy: PEER, attributableTo: from },
      }
    case 8:
      return { kind: 'peer.joined', subject: NODE_DID, data: { peerId: PEER } }
    case 9:
      return { kind: 'agent.registered', subject: from, envelopeId, data: { name: `agent-${i}`, controller: NODE_DID } }
    default:
      return {
        kind: 'envelope.accepted',
        subject: from,
        envelopeId,
        data: { type: 'msg', to, via: 'gossip', deliveredBy: PEER },
      }
  }
}

function ms<T>(fn: () => T): { value: T; ms: number } {
  const start = performance.now()
  const value = fn()
  return { value, ms: performance.now() - start }
}

function service(store: Store, log: AuditLog): AuditService {
  return new AuditService({
    store,
    log,
    clock: () => 1_764_000_000_000,
    nodeDid: () => NODE_DID,
    nodeKey: () => NODE,
    keyLog: () => NODE_KEY_LOG,
  })
}

interface Row {
  readonly n: number
  readonly groupPerSec: number
  readonly singlePerSec: number
  readonly checkpointMs: number
  readonly coldCheckpointMs: number
  readonly firstProofMs: number
  readonly warmProofMs: number
  readonly exportMs: number
  readonly fileMb: number
  readonly verifyMs: number
  readonly dbMb: number
}

function fill(store: Store, log: AuditLog, n: number): number {
  const start = performance.now()
  for (let i = 0; i < n; i += GROUP) {
    store.transaction(() => {
      for (let j = i; j < Math.min(n, i + GROUP); j++) log.append(inputAt(j))
    })
    if (i % 100_000 === 0) process.stderr.write(`  ${fmtInt(i)}/${fmtInt(n)} appended\r`)
  }
  return n / ((performance.now() - start) / 1000)
}

const SILENT_IO: CliIo = {
  stdout: () => undefined,
  stderr: () => undefined,
  readStdin: async () => new Uint8Array(),
  env: {},
  now: () => Date.now(),
}

async function measure(n: number, dir: string): Promise<Row> {
  const dbPath = join(dir, `audit-${n}.db`)
  let store = openStore({ path: dbPath })
  let log = new AuditLog(store, () => 1_764_000_000_000)
  const groupPerSec = fill(store, log, n - SINGLES)
  const singles = ms(() => {
    for (let i = n - SINGLES; i < n; i++) store.transaction(() => log.append(inputAt(i)))
  })
  const checkpoint = ms(() => service(store, log).checkpoint())
  store.close()
  store = openStore({ path: dbPath })
  log = new AuditLog(store, () => 1_764_000_000_000)
  const audit = service(store, log)
  const cold = ms(() => audit.checkpoint())
  const firstProof = ms(() => audit.inclusion(Math.floor(n / 3)))
  const warmProof = ms(() => audit.inclusion(Math.floor(n / 2)))
  const file = join(dir, `audit-${n}.json`)
  const exported = ms(() => writeFileSync(file, JSON.stringify(service(store, log).verifiable())))
  store.close()
  const verify = await (async () => {
    const start = performance.now()
    const result = await auditVerifyCommand(contextFrom({}, SILENT_IO), file)
    if ((result.exitCode ?? 0) !== 0) throw new Error(`the export of ${n} entries does not verify: ${result.human}`)
    return performance.now() - start
  })()
  const row: Row = {
    n,
    groupPerSec,
    singlePerSec: SINGLES / (singles.ms / 1000),
    checkpointMs: checkpoint.ms,
    coldCheckpointMs: cold.ms,
    firstProofMs: firstProof.ms,
    warmProofMs: warmProof.ms,
    exportMs: exported.ms,
    fileMb: statSync(file).size / 1e6,
    verifyMs: verify,
    dbMb: statSync(dbPath).size / 1e6,
  }
  rmSync(file)
  return row
}

function table(rows: readonly Row[]): string {
  const lines = [
    `| entries | append, ${GROUP} per transaction | append, 1 per transaction | checkpoint | checkpoint after reopen | ` +
      'inclusion proof, first / next | ' +
      'export (verifiable + JSON) | export file | `audit verify` | verify entries/s | database |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  for (const r of rows) {
    lines.push(
      `| ${fmtInt(r.n)} | ${fmtInt(r.groupPerSec)} /s | ${fmtInt(r.singlePerSec)} /s | ${r.checkpointMs.toFixed(1)} ms | ` +
        `${r.coldCheckpointMs.toFixed(1)} ms | ${r.firstProofMs.toFixed(0)} ms / ${r.warmProofMs.toFixed(2)} ms | ` +
        `${(r.exportMs / 1000).toFixed(2)} s | ${r.fileMb.toFixed(0)} MB | ` +
        `${(r.verifyMs / 1000).toFixed(2)} s | ${fmtInt(r.n / (r.verifyMs / 1000))} | ${r.dbMb.toFixed(0)} MB |`,
    )
  }
  return lines.join('\n')
}

/** The store-backed audit log benchmark module. */
export const auditStoreBench: BenchModule = {
  name: 'audit-store',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'meshsig-bench-audit-'))
    try {
      const rows: Row[] = []
      for (const n of SIZES) {
        process.stderr.write(`audit-store: ${fmtInt(n)} entries…\n`)
        rows.push(await measure(n, dir))
      }
      return [
        '## Audit log on disk: append, checkpoint, export, verify',
        '',
        '`AuditLog.append` on a file-backed store (SQLite WAL, `synchronous=FULL`), each append with its Merkle',
        `frontier and trust evidence in the same transaction. The log is filled in transactions of ${GROUP} entries`,
        `(group commit); the last ${fmtInt(SINGLES)} entries are appended one transaction (one fsync) each, as one`,
        'envelope at a time commits. "checkpoint" signs a `chk` over the whole log and logs it (O(log n) from the',
        'persisted frontier); "after reopen" is the same on a freshly opened store. An inclusion proof loads the',
        'leaf hashes once and keeps the roots of perfect subtrees, so the next proof costs O(log n) hashes.',
        '"export" builds the verifiable part of `GET /audit/export` and writes it as JSON; "`audit verify`" is the',
        'command’s own function on that file: read, JSON.parse, and `checkAuditExport` (exact diagnosis with leaf',
        'hashes). One run per size.',
        '',
        table(rows),
      ].join('\n')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  },
}

export default auditStoreBench
