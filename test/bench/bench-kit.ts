/**
 * Shared pieces of the benchmark runner: the module interface every bench
 * file implements, a fixed-duration throughput meter, and markdown helpers.
 */
import { generateKeyPairSync, randomBytes, sign as nodeSign, verify as nodeVerify } from 'node:crypto'
import { performance } from 'node:perf_hooks'

/** A benchmark module: `run` measures and returns one markdown section (starting with `## `). */
export interface BenchModule {
  /** Short name, used in logs and for `--only`. */
  readonly name: string
  /** Run the benchmark and return its markdown section. */
  run(): Promise<string>
}

/** Throughput of one measured operation. */
export interface Throughput {
  readonly label: string
  readonly ops: number
  readonly seconds: number
  readonly opsPerSec: number
  /** Mean time per operation, microseconds. */
  readonly meanUs: number
}

/** One operation to measure. */
export interface BenchCase {
  readonly label: string
  readonly fn: () => unknown
}

/** Options of `measureAll`. */
export interface MeasureOptions {
  /** Warm-up time per case before measuring, ms (default 500). */
  readonly warmupMs?: number
  /** Measuring time per case, ms (default 2000), split into `rounds` slices. */
  readonly durationMs?: number
  /** Interleaved rounds (default 4): every case runs one slice per round. */
  readonly rounds?: number
}

function runFor(fn: () => unknown, ms: number): { ops: number; elapsed: number } {
  const start = performance.now()
  let ops = 0
  let batch = 8
  let elapsed = 0
  while (elapsed < ms) {
    for (let i = 0; i < batch; i++) fn()
    ops += batch
    elapsed = performance.now() - start
    if (elapsed < ms / 20) batch *= 2
  }
  return { ops, elapsed }
}

/**
 * Measure every case for `durationMs` after a warm-up, interleaved: round
 * by round each case runs one slice, so background load and clock changes
 * fall on all cases alike and their ratios stay fair.
 */
export function measureAll(cases: readonly BenchCase[], opts: MeasureOptions = {}): Throughput[] {
  const rounds = opts.rounds ?? 4
  const slice = (opts.durationMs ?? 2000) / rounds
  for (const c of cases) runFor(c.fn, opts.warmupMs ?? 500)
  const totals = cases.map(() => ({ ops: 0, elapsed: 0 }))
  for (let r = 0; r < rounds; r++) {
    cases.forEach((c, i) => {
      const { ops, elapsed } = runFor(c.fn, slice)
      const t = totals[i]
      if (t) {
        t.ops += ops
        t.elapsed += elapsed
      }
    })
  }
  return cases.map((c, i) => {
    const { ops, elapsed } = totals[i] ?? { ops: 0, elapsed: 1 }
    return {
      label: c.label,
      ops,
      seconds: elapsed / 1000,
      opsPerSec: ops / (elapsed / 1000),
      meanUs: (elapsed * 1000) / ops,
    }
  })
}

/** Format a number with thousands separators and no decimals. */
export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

/** A markdown table of throughputs. */
export function throughputTable(rows: readonly Throughput[]): string {
  const lines = ['| operation | ops/s | µs/op | ops measured |', '| --- | ---: | ---: | ---: |']
  for (const r of rows)
    lines.push(`| ${r.label} | ${fmtInt(r.opsPerSec)} | ${r.meanUs.toFixed(2)} | ${fmtInt(r.ops)} |`)
  return lines.join('\n')
}

/** Mean time of one raw node:crypto Ed25519 verify (µs) of a 300-byte message, measured now for 1 s. */
export function rawVerifyUs(): number {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const data = randomBytes(300)
  const sig = nodeSign(null, data, privateKey)
  const [r] = measureAll([{ label: 'raw verify', fn: () => nodeVerify(null, data, publicKey, sig) }], {
    durationMs: 1000,
  })
  return r?.meanUs ?? Number.NaN
}
