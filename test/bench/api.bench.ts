/**
 * HTTP API benchmark: `POST /messages/send` (custodied key: sign, verify,
 * one group-committed SQLite transaction with synchronous=FULL, gossip) and
 * `POST /verify` (plain signature) with autocannon on loopback at
 * concurrency 1, 8 and 32, rate limit off. The node runs in a child process
 * (api-bench-server.ts) so the load generator does not share its event loop;
 * its resident memory is sampled during each run. Raw single-core
 * node:crypto verify ops/s is measured in the same run, next to the targets.
 *
 *     npx tsx test/bench/run.ts --only api      # or: npx tsx test/bench/api.bench.ts
 */
import { fork, type ChildProcess } from 'node:child_process'
import { generateKeyPairSync, sign as nodeSign, verify as nodeVerify } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { fmtInt, measureAll, type BenchModule } from './bench-kit.js'

/** Targets of the API issue. */
export const TARGETS = { verifyRatio: 0.6, sendReqPerSec: 2300, sendP99Ms: 25 } as const

const CONCURRENCY = [1, 8, 32] as const
const DURATION_S = Number(process.env.MESHSIG_BENCH_SECONDS ?? 8)

interface ServerInfo {
  readonly url: string
  readonly from: string
  readonly to: string
  readonly message: string
  readonly signature: string
}

interface Row {
  readonly endpoint: string
  readonly connections: number
  readonly reqPerSec: number
  readonly p50: number
  readonly p99: number
  readonly failures: number
  readonly rssMb: number
}

function startServer(): Promise<{ child: ChildProcess; info: ServerInfo }> {
  const script = fileURLToPath(new URL('./api-bench-server.ts', import.meta.url))
  const child = fork(script, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return new Promise((resolve, reject) => {
    child.once('message', (info) => resolve({ child, info: info as ServerInfo }))
    child.once('exit', (code) => reject(new Error(`bench server exited (${code})`)))
  })
}

function ask<T>(child: ChildProcess, cmd: string): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as T))
    child.send({ cmd })
  })
}

async function load(url: string, body: unknown, connections: number, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    connections,
    duration: seconds,
  })
}

async function measure(child: ChildProcess, endpoint: string, url: string, body: unknown, c: number): Promise<Row> {
  await ask(child, 'rss')
  const r = await load(url, body, c, DURATION_S)
  const { peak } = await ask<{ peak: number }>(child, 'rss')
  return {
    endpoint,
    connections: c,
    reqPerSec: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    failures: r.non2xx + r.errors + r.timeouts,
    rssMb: peak / 1024 / 1024,
  }
}

/** Raw single-core Ed25519 verify (node:crypto, cached KeyObject) over the bench message. */
function rawVerifyOpsPerSec(message: string): number {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const data = Buffer.from(message, 'utf8')
  const sig = nodeSign(null, data, privateKey)
  const [t] = measureAll([{ label: 'raw verify', fn: () => nodeVerify(null, data, publicKey, sig) }], {
    durationMs: 3000,
  })
  return t?.opsPerSec ?? 0
}

function table(rows: readonly Row[]): string {
  const lines = [
    '| endpoint | connections | req/s | p50 | p99 | non-2xx / errors | server RSS (peak) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  for (const r of rows) {
    lines.push(
      `| ${r.endpoint} | ${r.connections} | ${fmtInt(r.reqPerSec)} | ${r.p50} ms | ${r.p99} ms | ${r.failures} | ${r.rssMb.toFixed(0)} MB |`,
    )
  }
  return lines.join('\n')
}

function verdicts(rows: readonly Row[], raw: number): string[] {
  const best = (e: string): Row =>
    rows.filter((r) => r.endpoint === e).reduce((a, b) => (b.reqPerSec > a.reqPerSec ? b : a))
  const send32 = rows.find((r) => r.endpoint === 'POST /messages/send' && r.connections === 32)!
  const verify = best('POST /verify')
  const ratio = verify.reqPerSec / raw
  const mark = (ok: boolean): string => (ok ? 'met' : '**not met**')
  return [
    `- /verify: best ${fmtInt(verify.reqPerSec)} req/s (c=${verify.connections}) = ${ratio.toFixed(2)} × raw verify ` +
      `(target ≥ ${TARGETS.verifyRatio}): ${mark(ratio >= TARGETS.verifyRatio)}.`,
    `- /messages/send at c=32: ${fmtInt(send32.reqPerSec)} req/s (target ≥ ${fmtInt(TARGETS.sendReqPerSec)}), ` +
      `p99 ${send32.p99} ms (target < ${TARGETS.sendP99Ms} ms): ` +
      mark(send32.reqPerSec >= TARGETS.sendReqPerSec && send32.p99 < TARGETS.sendP99Ms) +
      '.',
  ]
}

async function report(): Promise<string> {
  const { child, info } = await startServer()
  const rows: Row[] = []
  let raw = 0
  try {
    const verifyBody = { message: info.message, signature: info.signature, did: info.from }
    const sendBody = { fromDid: info.from, toDid: info.to, message: 'hello from the benchmark' }
    await load(info.url + '/verify', verifyBody, 8, 2)
    await load(info.url + '/messages/send', sendBody, 8, 2)
    raw = rawVerifyOpsPerSec(info.message)
    for (const c of CONCURRENCY)
      rows.push(await measure(child, 'POST /messages/send', info.url + '/messages/send', sendBody, c))
    for (const c of CONCURRENCY) rows.push(await measure(child, 'POST /verify', info.url + '/verify', verifyBody, c))
  } finally {
    child.send({ cmd: 'stop' })
  }
  return [
    '## HTTP API (autocannon on loopback, rate limit off)',
    '',
    `The node runs in a child process (SQLite file, synchronous=FULL, WAL; custodied sender key); autocannon runs in`,
    `the parent, on the same machine, for ${DURATION_S} s per row after a warm-up. /messages/send signs with the`,
    'custodied key, verifies, commits message + replay nonce + audit entry + counters (concurrent sends group-committed',
    'in one transaction, acknowledged after commit) and publishes to gossip; /verify checks a plain signature under the',
    "DID's current key (verification on a worker thread).",
    '',
    table(rows),
    '',
    `Raw single-core node:crypto Ed25519 verify in the same run: ${fmtInt(raw)} ops/s.`,
    '',
    ...verdicts(rows, raw),
  ].join('\n')
}

/** The API benchmark module. */
export const apiBench: BenchModule = { name: 'api', run: report }

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stdout.write((await report()) + '\n')
}
