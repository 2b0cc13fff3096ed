/**
 * The streamed (NDJSON) audit export and its verification on a large log,
 * at two sizes (500 000 and 2 000 000 entries: memory must not grow with
 * the log): the log is filled directly into a file-backed store (the mix of
 * audit-store.bench), then, each in its own process running the compiled
 * JS (dist/, as the `meshsig` command runs; `npm run bench` builds it) so
 * that its peak RSS (VmHWM from /proc, printed as it exits) is its own:
 * the node's export (`AuditService.ndjsonSource` + `ndjsonExport`, written
 * to a file with backpressure), `meshsig audit verify FILE`, and
 * `meshsig audit verify -` with the file piped to its stdin. The CLI
 * printing its version gives the baseline RSS. Raw node:crypto Ed25519
 * verify is measured in the same run.
 *
 *     npm run bench -- --only audit-stream        # this section alone (prints it)
 *     npx tsx test/bench/audit-stream.bench.ts 200000 1000000   # other sizes, after npm run build
 */
import { spawnSync } from 'node:child_process'
import { verify as nodeVerify, generateKeyPairSync, randomBytes, sign as nodeSign } from 'node:crypto'
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AuditLog, type AuditInput } from '../../node/audit/audit-log.js'
import { didFromPublicKey, keyPairFromSeed } from '../../node/core/index.js'
import { openStore } from '../../node/store/index.js'
import { fmtInt, measureAll, type BenchModule } from './bench-kit.js'

/** Sizes of the measured log (2M fits in about ten minutes on the 2-core bench machine). */
const DEFAULT_SIZES = [500_000, 2_000_000]
const NODE = keyPairFromSeed(new Uint8Array(32).fill(7))
const NODE_DID = didFromPublicKey(NODE.publicKey)
const AGENTS = [8, 9, 10, 11].map((s) => didFromPublicKey(keyPairFromSeed(new Uint8Array(32).fill(s)).publicKey))
const PEER = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
const SELF = fileURLToPath(import.meta.url)
const DIST = new URL('../../dist/', import.meta.url)
const CLI = fileURLToPath(new URL('bin/meshsig.js', DIST))
/** A preload that prints the process's peak RSS (kB, from /proc) and its run time as it exits. */
const PEAK = `process.on('exit', () => {
  const kb = Number(/VmHWM:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1])
  process.stderr.write('\\nPEAK ' + JSON.stringify({ peakKb: kb, seconds: process.uptime() }) + '\\n')
})\n`
/** The export, in its own process on the compiled modules: `node -e EXPORT <dist URL> <db> <out>`. */
const EXPORT = `
import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
const [dist, db, out] = process.argv.slice(1)
const load = (p) => import(new URL(p, dist).href)
const { AuditLog } = await load('node/audit/audit-log.js')
const { AuditService } = await load('node/audit/audit-service.js')
const { ndjsonExport } = await load('node/audit/export-stream.js')
const { openStore } = await load('node/store/index.js')
const core = await load('node/core/index.js')
const key = core.keyPairFromSeed(new Uint8Array(32).fill(7))
const T = 1764000000000
const store = openStore({ path: db })
const audit = new AuditService({ store, log: new AuditLog(store, () => T), clock: () => T, minCheckpointIntervalMs: 0,
  nodeDid: () => core.didFromPublicKey(key.publicKey), nodeKey: () => key, keyLog: () => [core.createInception(key, T, null)] })
const file = createWriteStream(out)
const src = audit.ndjsonSource()
const none = () => []
const extras = { header: {}, agents: none, connections: none, revoked: none, trustFormula: '', trustParams: {} }
for (const chunk of ndjsonExport(src, extras)) if (!file.write(chunk)) await once(file, 'drain')
file.end()
await once(file, 'finish')
store.close()
process.stdout.write(JSON.stringify({ entries: src.checkpoint.size }))
`

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

interface ChildResult {
  readonly seconds: number
  readonly peakKb: number
  readonly entries: number
}

/** Run `node --require PEAK …args` (through `sh -c` when `stdinFrom` is piped in); its result and peak RSS. */
function runChild(dir: string, args: readonly string[], stdinFrom?: string): ChildResult {
  const preload = join(dir, 'peak.cjs')
  writeFileSync(preload, PEAK)
  const node = [process.execPath, '--require', preload, ...args]
  const opts = {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    env: { ...process.env, MESHSIG_HOME: join(dir, 'home') },
  } as const
  const r =
    stdinFrom === undefined
      ? spawnSync(process.execPath, node.slice(1), opts)
      : spawnSync('sh', ['-c', 'f="$1"; shift; cat -- "$f" | "$@"', 'sh', stdinFrom, ...node], opts)
  const peak = /PEAK (\{.*\})/.exec(r.stderr)?.[1]
  if (r.status !== 0 || peak === undefined) {
    throw new Error(`bench child ${args.join(' ')} failed (${r.status}): ${r.stderr} ${r.stdout.slice(0, 500)}`)
  }
  const out = (r.stdout.startsWith('{') ? JSON.parse(r.stdout) : {}) as { entries?: number; size?: number }
  return { ...(JSON.parse(peak) as { peakKb: number; seconds: number }), entries: out.entries ?? out.size ?? 0 }
}

function rawVerifyPerSec(): number {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const data = randomBytes(303)
  const sig = nodeSign(null, data, privateKey)
  const [raw] = measureAll([{ label: 'raw', fn: () => nodeVerify(null, data, publicKey, sig) }])
  return raw?.opsPerSec ?? Number.NaN
}

function fill(dbPath: string, from: number, to: number): void {
  const store = openStore({ path: dbPath })
  const log = new AuditLog(store, () => 1_764_000_000_000)
  for (let i = from; i < to; i += 512) {
    store.transaction(() => {
      for (let j = i; j < Math.min(to, i + 512); j++) log.append(inputAt(j))
    })
    if (i % 100_000 < 512) process.stderr.write(`  ${fmtInt(i)}/${fmtInt(to)} appended\r`)
  }
  store.close()
}

interface SizeRun {
  readonly fileMb: number
  readonly export: ChildResult
  readonly file: ChildResult
  readonly stdin: ChildResult
}

/** Export the log in `dbPath` (as it stands) and verify the file, then the same file piped to stdin. */
function measureSize(dir: string, dbPath: string): SizeRun {
  const file = join(dir, 'audit.ndjson')
  const exp = runChild(dir, ['--input-type=module', '-e', EXPORT, DIST.href, dbPath, file])
  const fileMb = statSync(file).size / 1e6
  const verified = runChild(dir, [CLI, 'audit', 'verify', file, '--json'])
  const piped = runChild(dir, [CLI, 'audit', 'verify', '-', '--json'], file)
  rmSync(file)
  for (const r of [verified, piped]) {
    if (r.entries !== exp.entries) throw new Error(`verified ${r.entries} entries of ${exp.entries}`)
  }
  return { fileMb, export: exp, file: verified, stdin: piped }
}

async function section(sizes: readonly number[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'meshsig-bench-stream-'))
  try {
    const dbPath = join(dir, 'audit.db')
    const runs: Array<{ size: number; run: SizeRun }> = []
    let filled = 0
    for (const size of sizes) {
      fill(dbPath, filled, size)
      filled = size
      runs.push({ size, run: measureSize(dir, dbPath) })
      filled += 1 // the export's checkpoint is logged after the entries it signs
    }
    const idle = runChild(dir, [CLI, '--version'])
    const raw = rawVerifyPerSec()
    return report(runs, idle, raw)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function report(runs: ReadonlyArray<{ size: number; run: SizeRun }>, idle: ChildResult, raw: number): string {
  const cpu = cpus()
  const row = (label: string, r: ChildResult, fileMb: number): string => {
    const perSec = r.entries / r.seconds
    const cells = [label, fmtInt(r.entries), `${fileMb.toFixed(0)} MB`, `${r.seconds.toFixed(1)} s`, fmtInt(perSec)]
    return `| ${[...cells, `${(perSec / raw).toFixed(3)} ×`, `${(r.peakKb / 1024).toFixed(0)} MB`].join(' | ')} |`
  }
  const rows = runs.flatMap(({ run }) => [
    row('export (NDJSON to a file)', run.export, run.fileMb),
    row('`meshsig audit verify FILE`', run.file, run.fileMb),
    row('`cat FILE \\| meshsig audit verify -`', run.stdin, run.fileMb),
  ])
  return [
    '## Audit export streamed as NDJSON: export and verify',
    '',
    `Machine: ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores; Node ${process.version}; ${new Date().toISOString()}.`,
    `Raw node:crypto Ed25519 verify in the same run: ${fmtInt(raw)} verifies/s ("ratio" = entries/s over it).`,
    '',
    `Logs of ${runs.map((r) => fmtInt(r.size)).join(' and ')} entries (one log, filled directly into a file-backed`,
    'store, exported at each size: the export covers exactly those entries, its checkpoint signs them before its',
    'own entry is appended). Each step runs in its own process on the compiled JS (dist/, what `meshsig` runs);',
    'peak RSS = VmHWM of that process from /proc, read as it exits. Export: `AuditService.ndjsonSource` +',
    '`ndjsonExport`, pages of 128 entries written to a file with backpressure. Verify: the `meshsig` command',
    '(line by line, both Merkle frontiers, trust replay), from the file and from stdin through a pipe. Time',
    `includes process start. The CLI printing its version peaks at ${(idle.peakKb / 1024).toFixed(0)} MB. One run.`,
    '',
    '| step | entries | file | time | entries/s | ratio to raw verify | peak RSS |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n')
}

/** The streamed audit export benchmark module (`npm run bench -- --only audit-stream`). */
export const auditStreamBench: BenchModule = {
  name: 'audit-stream',
  run: () => section(DEFAULT_SIZES),
}

if (process.argv[1] === SELF) {
  const sizes = process.argv.slice(2).map(Number)
  process.stdout.write((await section(sizes.length > 0 ? sizes : DEFAULT_SIZES)) + '\n')
}

export default auditStreamBench
