/**
 * The issue's own load client as a cross-check of the API table (issue 13):
 * `../shared/bench/seed-api-bench.mjs` (or `MESHSIG_SEED_BENCH`) run as a
 * separate process against the same node, at 32 connections, for the three
 * scenarios it has (register, send with `privateKey`, verify). It is a plain
 * node:http client and spends more CPU per request than autocannon; on a
 * 2-core machine shared by client and node that CPU is taken from the node,
 * so its rows read lower. Both clients' CPU per request are printed next to
 * each other so the reader can see why.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { fmtInt } from './bench-kit.js'

const run = promisify(execFile)

/** The seed's client, next to this repository's checkout, unless `MESHSIG_SEED_BENCH` names another. */
export const SEED_CLIENT =
  process.env.MESHSIG_SEED_BENCH ??
  resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/bench/seed-api-bench.mjs')

/** A scenario of the seed client and the autocannon row (c = 32) it is set against. */
export interface SeedCheck {
  readonly seedScenario: 'register' | 'send' | 'verify'
  readonly label: string
  readonly target: number
  /** The autocannon row at c = 32: req/s, its adjacent raw verify and the bench process's CPU per request (µs). */
  readonly autocannon: { readonly reqPerSec: number; readonly raw: number; readonly clientUsPerReq: number }
}

interface SeedResult {
  readonly rps: number
  readonly okRps: number
  readonly requests: number
  readonly ok: number
  readonly badBody: number
  readonly latencyMs: { readonly mean: number; readonly p99: number }
  readonly clientCpuPct: number
}

/**
 * Markdown lines: the seed client's rows at c = 32 next to autocannon's;
 * `rawNow` measures raw verify (ops/s) for the calibration before and after
 * each row. One line saying why when the client is not there.
 */
export async function seedClientLines(
  url: string,
  checks: readonly SeedCheck[],
  rawNow: () => number,
  seconds: number,
): Promise<string[]> {
  if (!existsSync(SEED_CLIENT)) {
    return [
      `- The seed's own load client was not found at \`${SEED_CLIENT}\` (set MESHSIG_SEED_BENCH): no cross-check.`,
    ]
  }
  const lines = [
    '',
    "The same node, at c = 32, loaded by the issue's own client (`seed-api-bench.mjs`, a separate process, " +
      `${seconds} s after a 2 s warm-up): the ratios the issue's author would read. It spends more CPU per request ` +
      'than autocannon, and on two cores that CPU is taken from the node (decision 0032).',
    '',
    '| path | seed client req/s (ok) | raw verify next to it | × that raw verify | target | mean | p99 | client CPU / req | autocannon × raw verify | autocannon client CPU / req |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  for (const c of checks) {
    const before = rawNow()
    const args = [SEED_CLIENT, url, '-s', c.seedScenario, '-c', '32', '-d', String(seconds), '-w', '2', '--json']
    const { stdout } = await run(process.execPath, args, { maxBuffer: 1 << 20 }).catch(
      (err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }), // a non-zero exit still prints its result
    )
    const raw = (before + rawNow()) / 2
    const r = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as SeedResult
    const clientUs = (r.clientCpuPct / 100 / Math.max(r.rps, 1)) * 1e6
    const failed = r.requests - r.ok + r.badBody
    lines.push(
      `| ${c.label} | ${fmtInt(r.okRps)}${failed > 0 ? ` (${failed} failed)` : ''} | ${fmtInt(raw)} /s | ` +
        `${(r.okRps / raw).toFixed(3)} | ≥ ${c.target} | ${r.latencyMs.mean.toFixed(1)} ms | ${r.latencyMs.p99.toFixed(0)} ms | ` +
        `${fmtInt(clientUs)} µs | ${(c.autocannon.reqPerSec / c.autocannon.raw).toFixed(3)} | ${fmtInt(c.autocannon.clientUsPerReq)} µs |`,
    )
  }
  return lines
}
