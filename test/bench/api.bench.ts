/**
 * HTTP API benchmark (issue 13): the paths a new user calls first, with the
 * seed's request shapes (`../shared/bench/seed-api-bench.mjs`), against a
 * real `meshsig start` process (the bundled CLI, SQLite file; every answer waits for its commit's fsync,
 * rate limit off with MESHSIG_RATE_LIMIT=0), loaded by autocannon from this
 * process on loopback at 1, 8 and 32 connections:
 *
 * - `POST /agents/register {name, capabilities}`
 * - `POST /messages/send {fromDid, toDid, message, privateKey}` (the seed's form)
 * - `POST /messages/send {fromDid, toDid, message}` with the agent's credential (custodied key)
 * - `POST /verify {message, signature, publicKey}`
 *
 * Every figure is also given as a ratio to raw single-core node:crypto
 * Ed25519 verify measured in the same run; plus start to `/health` (median of
 * 5 starts; with the node's CPU time by then, robust to a loaded machine, and
 * the time until `"mesh": "ready"`); the node's RSS idle and after 60 s of
 * sends at 32 connections on a node of its own (`api-memory.ts`), and its
 * peak under the whole table; and what a bare Node.js server reaches with the
 * same client and body (`api-ceiling.ts`).
 *
 *     npm run build && npx tsx test/bench/run.ts --only api
 */
import { generateKeyPairSync, sign as nodeSign, verify as nodeVerify } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { measureMemory, memoryLines } from './api-memory.js'
import { cpuMs, load, msToReady, post, rssMb, startNode, stopNode, type Node } from './api-node.js'
import { fmtInt, measureAll, type BenchModule } from './bench-kit.js'
import { seedClientLines, type SeedCheck } from './api-seed-client.js'
import { ceilingLines } from './api-ceiling.js'

/** Target ratios to raw verify (issue 13). */
export const TARGETS = { register: 0.5, sendPrivateKey: 0.25, sendCustodied: 0.35, verify: 0.6 } as const

const CONCURRENCY = [1, 8, 32] as const
const DURATION_S = Number(process.env.MESHSIG_BENCH_SECONDS ?? 8)
/** Raw verify measured for this long right before and right after each row. */
const ADJACENT_RAW_MS = 1000

interface Row {
  readonly scenario: keyof typeof TARGETS
  readonly label: string
  readonly connections: number
  readonly reqPerSec: number
  readonly meanMs: number
  readonly p99: number
  readonly failures: number
  /** The node's CPU time (all its threads) per answered request, µs: robust to a loaded machine. */
  readonly cpuUsPerReq: number
  /** Raw verify ops/s measured right before and right after this row (their mean): the row's own calibration. */
  readonly raw: number
  /** This process's CPU time (autocannon, the load client) per answered request, µs. */
  readonly clientUsPerReq: number
}

/** Raw single-core Ed25519 verify (node:crypto, one KeyObject) over a 64-byte message. */
function rawVerifyOpsPerSec(durationMs = 3000): number {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const data = Buffer.alloc(64, 7)
  const sig = nodeSign(null, data, privateKey)
  const [t] = measureAll([{ label: 'raw verify', fn: () => nodeVerify(null, data, publicKey, sig) }], { durationMs })
  return t?.opsPerSec ?? 0
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? 0
}

interface Scenario {
  readonly scenario: keyof typeof TARGETS
  readonly label: string
  readonly path: string
  readonly body: unknown
  readonly bearer?: string
}

/** The four request shapes, with fixtures registered through the API the way a user would. */
async function scenarios(node: Node): Promise<Scenario[]> {
  const a = (await post(node.url + '/agents/register', { name: 'bench-a' })) as { identity: Record<string, string> }
  const b = (await post(node.url + '/agents/register', { name: 'bench-b' })) as { identity: Record<string, string> }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const message = 'x'.repeat(64)
  const signature = nodeSign(null, Buffer.from(message), privateKey).toString('base64')
  const raw = publicKey.export({ format: 'jwk' }).x ?? ''
  const send = { fromDid: a.identity.did, toDid: b.identity.did, message }
  return [
    {
      scenario: 'register',
      label: 'POST /agents/register {name, capabilities}',
      path: '/agents/register',
      body: { name: 'bench-agent', capabilities: [{ type: 'analysis', confidence: 0.9 }] },
    },
    {
      scenario: 'sendPrivateKey',
      label: 'POST /messages/send {…, privateKey}',
      path: '/messages/send',
      body: { ...send, privateKey: a.identity.privateKey },
    },
    {
      scenario: 'sendCustodied',
      label: 'POST /messages/send {…} + agent credential',
      path: '/messages/send',
      body: send,
      bearer: a.identity.credential,
    },
    {
      scenario: 'verify',
      label: 'POST /verify {message, signature, publicKey}',
      path: '/verify',
      body: { message, signature, publicKey: Buffer.from(raw, 'base64url').toString('base64') },
    },
  ]
}

async function measureRows(node: Node, list: readonly Scenario[]): Promise<{ rows: Row[]; peakRss: number }> {
  const rows: Row[] = []
  let peakRss = 0
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb(node.child.pid))), 200)
  try {
    for (const s of list) {
      await load(node.url + s.path, s.body, 8, 2, s.bearer) // warm-up
      for (const c of CONCURRENCY) {
        // the machine's speed drifts minute to minute: each row is calibrated by raw verify measured next to it
        const rawBefore = rawVerifyOpsPerSec(ADJACENT_RAW_MS)
        const cpu0 = cpuMs(node.child.pid)
        const client0 = process.cpuUsage()
        const r = await load(node.url + s.path, s.body, c, DURATION_S, s.bearer)
        const client = process.cpuUsage(client0)
        const cpuUsPerReq = ((cpuMs(node.child.pid) - cpu0) * 1000) / Math.max(1, r.requests.total)
        const clientUsPerReq = (client.user + client.system) / Math.max(1, r.requests.total)
        await new Promise((resolve) => setTimeout(resolve, 300)) // the node's last answers and fsyncs settle first
        const raw = (rawBefore + rawVerifyOpsPerSec(ADJACENT_RAW_MS)) / 2
        rows.push({
          cpuUsPerReq,
          clientUsPerReq,
          raw,
          scenario: s.scenario,
          label: s.label,
          connections: c,
          reqPerSec: r.requests.average,
          meanMs: r.latency.mean,
          p99: r.latency.p99,
          failures: r.non2xx + r.errors + r.timeouts,
        })
      }
    }
  } finally {
    clearInterval(sampler)
  }
  return { rows, peakRss }
}

/** The autocannon rows at c = 32 that the seed's own client can repeat (it has no custodied send). */
function seedChecks(rows: readonly Row[]): SeedCheck[] {
  const pairs = [
    ['register', 'register'],
    ['send', 'sendPrivateKey'],
    ['verify', 'verify'],
  ] as const
  return pairs.map(([seedScenario, scenario]) => {
    const r = rows.find((x) => x.scenario === scenario && x.connections === 32)!
    return { seedScenario, label: r.label, target: TARGETS[scenario], autocannon: r }
  })
}

function table(rows: readonly Row[], raw: number): string {
  const lines = [
    "| path | c | req/s | raw verify next to it | × that raw verify | × the run's raw verify | target | mean | p99 | p99 / mean | non-2xx / errors | node CPU / req | raw verify / node CPU per req |",
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  for (const r of rows) {
    const ratio = r.reqPerSec / r.raw
    const cpuRatio = 1e6 / r.raw / Math.max(r.cpuUsPerReq, 0.001)
    lines.push(
      `| ${r.label} | ${r.connections} | ${fmtInt(r.reqPerSec)} | ${fmtInt(r.raw)} /s | ${ratio.toFixed(3)} | ` +
        `${(r.reqPerSec / raw).toFixed(3)} | ≥ ${TARGETS[r.scenario]} | ` +
        `${r.meanMs.toFixed(1)} ms | ${r.p99} ms | ${(r.p99 / Math.max(r.meanMs, 0.001)).toFixed(1)} | ${r.failures} | ` +
        `${fmtInt(r.cpuUsPerReq)} µs | ${cpuRatio.toFixed(3)} |`,
    )
  }
  return lines.join('\n')
}

function verdicts(rows: readonly Row[], raw: number): string[] {
  const mark = (ok: boolean): string => (ok ? 'met' : '**not met**')
  return (Object.keys(TARGETS) as (keyof typeof TARGETS)[]).map((s) => {
    const r = rows.find((x) => x.scenario === s && x.connections === 32)!
    const ratio = r.reqPerSec / r.raw
    const tail = r.p99 <= 3 * r.meanMs
    return (
      `- ${r.label} at c=32: ${ratio.toFixed(3)} × the raw verify next to it (target ≥ ${TARGETS[s]}): ` +
      `${mark(ratio >= TARGETS[s])} (${(r.reqPerSec / raw).toFixed(3)} × the run's raw verify: ${mark(r.reqPerSec / raw >= TARGETS[s])}); ` +
      `p99 ${r.p99} ms = ${(r.p99 / r.meanMs).toFixed(1)} × mean (target ≤ 3): ${mark(tail)}.`
    )
  })
}

async function report(): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), 'meshsig-api-bench-'))
  try {
    const starts: number[] = []
    const cpuStarts: number[] = []
    const readies: number[] = []
    for (let i = 0; i < 6; i++) {
      const t0 = performance.now()
      const n = await startNode(home)
      const ready = await msToReady(n, t0)
      if (i > 0) {
        // the first start also makes the identity and the database
        starts.push(n.msToHealth)
        cpuStarts.push(n.cpuMsToHealth)
        readies.push(ready)
      }
      await stopNode(n)
    }
    const node = await startNode(home)
    const list = await scenarios(node)
    const raw = rawVerifyOpsPerSec()
    const { rows, peakRss } = await measureRows(node, list)
    const afterRss = rssMb(node.child.pid)
    const seedClient = await seedClientLines(
      node.url,
      seedChecks(rows),
      () => rawVerifyOpsPerSec(ADJACENT_RAW_MS),
      DURATION_S,
    )
    await stopNode(node)
    const verifyBody = list.find((x) => x.scenario === 'verify')!.body
    const ceiling = await ceilingLines(verifyBody, () => rawVerifyOpsPerSec(ADJACENT_RAW_MS), DURATION_S)
    const memory = memoryLines(await measureMemory())
    return [
      '## HTTP API: the paths users call (autocannon on loopback, rate limit off)',
      '',
      'A real `meshsig start` process (the bundled `dist/bin/meshsig.js`, decision 0031; SQLite file; each answer only after its group commit is fsynced, decision 0025) answers; autocannon runs in the',
      `bench process on the same machine, ${DURATION_S} s per row after a 2 s warm-up, with the seed's request shapes.`,
      '',
      table(rows, raw),
      '',
      `Raw single-core node:crypto Ed25519 verify in the same run: ${fmtInt(raw)} ops/s ` +
        `(${(1e6 / raw).toFixed(0)} µs each, 3 s before the first row); each row is also calibrated by raw verify ` +
        `measured for ${ADJACENT_RAW_MS / 1000} s right before and right after it (their mean, "raw verify next to it"), ` +
        'since this shared machine drifts by tens of percent from minute to minute. "Node CPU / req" is the node process\'s CPU time (all threads, from ' +
        '/proc) over the row divided by the requests answered; the last column divides one raw verify by it — what ' +
        'one dedicated core would give, as a ratio to raw verify, whatever else shares the machine.',
      '',
      ...verdicts(rows, raw),
      `- Start to \`/health\` (median of 5 starts of an existing home): ${median(starts).toFixed(0)} ms ` +
        `(all: ${starts.map((s) => s.toFixed(0)).join(', ')} ms; target ≤ 300 ms); the node's own CPU time by then ` +
        `${median(cpuStarts).toFixed(0)} ms (median); \`"mesh": "ready"\` after ${median(readies).toFixed(0)} ms (median).`,
      ...memory,
      `- Node RSS over the whole table above (registrations, both sends, /verify and its threads): peak ` +
        `${peakRss.toFixed(0)} MB, ${afterRss.toFixed(0)} MB right after it.`,
      ...seedClient,
      ...ceiling,
    ].join('\n')
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}

/** The API benchmark module. */
export const apiBench: BenchModule = { name: 'api', run: report }

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stdout.write((await report()) + '\n')
}
