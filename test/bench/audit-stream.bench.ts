/**
 * The streamed (NDJSON) audit export and its verification on a large log:
 * the log is filled directly into a file-backed store (the mix of
 * audit-store.bench), then, each in its own child process so that its peak
 * RSS (VmHWM from /proc/self/status) is its own: the node's export
 * (`AuditService.ndjsonSource` + `ndjsonExport`, written to a file with
 * backpressure), and `meshsig audit verify`'s streaming reader
 * (`verifyNdjsonFile`). An idle child that loads the same modules gives the
 * baseline RSS. Raw node:crypto Ed25519 verify is measured in the same run.
 *
 *     npx tsx test/bench/audit-stream.bench.ts [entries]   # this section alone
 */
import { execFileSync } from 'node:child_process'
import { verify as nodeVerify, generateKeyPairSync, randomBytes, sign as nodeSign } from 'node:crypto'
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import { verifyNdjsonFile } from '../../cli/commands/audit-stream.js'
import { AuditLog, type AuditInput } from '../../node/audit/audit-log.js'
import { AuditService } from '../../node/audit/audit-service.js'
import { ndjsonExport } from '../../node/audit/export-stream.js'
import { createInception, didFromPublicKey, keyPairFromSeed } from '../../node/core/index.js'
import { openStore } from '../../node/store/index.js'
import { fmtInt, measureAll, type BenchModule } from './bench-kit.js'

/** Entries of the measured log (2M fits in a few minutes on the 2-core bench machine). */
const DEFAULT_N = 2_000_000
const NODE = keyPairFromSeed(new Uint8Array(32).fill(7))
const NODE_DID = didFromPublicKey(NODE.publicKey)
const AGENTS = [8, 9, 10, 11].map((s) => didFromPublicKey(keyPairFromSeed(new Uint8Array(32).fill(s)).publicKey))
const PEER = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
const SELF = fileURLToPath(import.meta.url)

function inputAt(i: number): AuditInput {
  const envelopeId = (i * 2654435761).toString(16).padStart(64, '0').slice(-64)
  const from = AGENTS[i % AGENTS.length]!
  const to = AGENTS[(i + 1) % AGENTS.length]!
  if (i % 10 === 7) {
    const data = { type: 'msg', to, via: 'gossip', deliveredBy: PEER, attributableTo: from }
    return { kind: 'envelope.rejected', subject: from, envelopeId, code: 'REPLAY', data }
  }
  if (i % 10 === 8) return { kind: 'peer.joined', subject: NODE_DID, data: { peerId: PEER } }
  if (i % 10 === 9) return { kind: 'agent.registered', subject: from, envelopeId, data: { name: `a${i}` } }
  return {
    kind: 'envelope.accepted',
    subject: from,
    envelopeId,
    data: { type: 'msg', to, via: 'gossip', deliveredBy: PEER },
  }
}

function service(dbPath: string): AuditService {
  const store = openStore({ path: dbPath })
  return new AuditService({
    store,
    log: new AuditLog(store, () => 1_764_000_000_000),
    clock: () => 1_764_000_000_000,
    nodeDid: () => NODE_DID,
    nodeKey: () => NODE,
    keyLog: () => [createInception(NODE, 1_764_000_000_000, null)],
  })
}

function peakKb(): number {
  return Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 'NaN')
}

/** Child process work: `export <db> <out>`, `verify <file>` or `idle`; prints `{seconds, peakKb, …}`. */
async function child(argv: readonly string[]): Promise<void> {
  const start = performance.now()
  let extra: Record<string, unknown> = {}
  if (argv[0] === 'export') {
    const out = createWriteStream(argv[2]!)
    const src = service(argv[1]!).ndjsonSource()
    const none = () => []
    const extras = { header: {}, agents: none, connections: none, revoked: none, trustFormula: '', trustParams: {} }
    for (const chunk of ndjsonExport(src, extras)) if (!out.write(chunk)) await once(out, 'drain')
    out.end()
    await once(out, 'finish')
    extra = { entries: src.checkpoint.size }
  } else if (argv[0] === 'verify') {
    const r = await verifyNdjsonFile(argv[1]!, () => undefined)
    if (!r.check.ok) throw new Error(`the export does not verify: ${JSON.stringify(r.check.log.problems[0])}`)
    extra = { entries: r.check.log.size }
  }
  process.stdout.write(JSON.stringify({ seconds: (performance.now() - start) / 1000, peakKb: peakKb(), ...extra }))
}

interface ChildResult {
  readonly seconds: number
  readonly peakKb: number
  readonly entries?: number
}

function runChild(args: string[]): ChildResult {
  const tsx = join(SELF, '..', '..', '..', 'node_modules', '.bin', 'tsx')
  const out = execFileSync(tsx, [SELF, '--child', ...args], { encoding: 'utf8', maxBuffer: 1 << 20 })
  return JSON.parse(out) as ChildResult
}

function rawVerifyPerSec(): number {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const data = randomBytes(303)
  const sig = nodeSign(null, data, privateKey)
  const [raw] = measureAll([{ label: 'raw', fn: () => nodeVerify(null, data, publicKey, sig) }])
  return raw?.opsPerSec ?? Number.NaN
}

async function section(n: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'meshsig-bench-stream-'))
  try {
    const dbPath = join(dir, 'audit.db')
    const store = openStore({ path: dbPath })
    const log = new AuditLog(store, () => 1_764_000_000_000)
    for (let i = 0; i < n; i += 512) {
      store.transaction(() => {
        for (let j = i; j < Math.min(n, i + 512); j++) log.append(inputAt(j))
      })
      if (i % 200_000 === 0) process.stderr.write(`  ${fmtInt(i)}/${fmtInt(n)} appended\r`)
    }
    store.close()
    const file = join(dir, 'audit.ndjson')
    const idle = runChild(['idle'])
    const exp = runChild(['export', dbPath, file])
    const fileMb = statSync(file).size / 1e6
    const ver = runChild(['verify', file])
    const raw = rawVerifyPerSec()
    const row = (label: string, r: ChildResult): string => {
      const perSec = (r.entries ?? 0) / r.seconds
      return `| ${label} | ${fmtInt(r.entries ?? 0)} | ${r.seconds.toFixed(1)} s | ${fmtInt(perSec)} | ${(perSec / raw).toFixed(2)} × | ${(r.peakKb / 1024).toFixed(0)} MB |`
    }
    return [
      '## Audit export streamed as NDJSON: export and verify',
      '',
      `A log of ${fmtInt(n)} entries filled directly into a file-backed store (the export covers exactly those: its`,
      'checkpoint signs them before its own entry is appended), then in',
      'separate child processes (peak RSS = VmHWM of that process, from /proc): the node’s NDJSON export',
      '(`AuditService.ndjsonSource` + `ndjsonExport`, pages of 1 000 entries written to a file with backpressure),',
      'and the streaming verifier of `meshsig audit verify` (`verifyNdjsonFile`: line by line, both Merkle',
      'frontiers, trust replay). "ratio" is entries/s over raw node:crypto Ed25519 verify measured in the same',
      `run: ${fmtInt(raw)} verifies/s. An idle child loading the same modules peaks at ${(idle.peakKb / 1024).toFixed(0)} MB. File: ${fileMb.toFixed(0)} MB. One run.`,
      '',
      '| step | entries | time | entries/s | ratio to raw verify | peak RSS |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      row('export (NDJSON to a file)', exp),
      row('`audit verify` (NDJSON, streaming)', ver),
    ].join('\n')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The streamed audit export benchmark module. */
export const auditStreamBench: BenchModule = {
  name: 'audit-stream',
  run: () => section(DEFAULT_N),
}

if (process.argv[1] === SELF) {
  const at = process.argv.indexOf('--child')
  if (at >= 0) await child(process.argv.slice(at + 1))
  else process.stdout.write((await section(Number(process.argv[2] ?? DEFAULT_N))) + '\n')
}

export default auditStreamBench
