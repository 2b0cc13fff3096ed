/**
 * The process half of the mesh-scale bench (issue 12): real `meshsig start`
 * processes (the built dist/, run by `npm run bench` after its build), CPU
 * per process from /proc/<pid>/stat and mesh bytes per process from the
 * kernel's per-socket counters (`ss -ti`, the API port's sockets left out),
 * both above each process's own idle rate. Six processes: per registration
 * and per direct message, what each spends. Then a fresh process joins an
 * in-process seed node holding 1k, 10k and 100k agents: bytes, time, CPU,
 * and the worst `/health` latency polled every 100 ms throughout.
 */
import { execFile, spawn as spawnChild } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { BuiltCli } from '../cli/build-cli.js'
import { startNode, tempDir } from '../helpers/mesh.js'
import { freePort, getJson, postJson, startProcess, type NodeProcess } from '../helpers/node-process.js'
import { fillRegistry, signAgents } from '../helpers/registry-fill.js'
import { waitFor } from '../helpers/wait-for.js'
import { fmtInt } from './bench-kit.js'

const run = promisify(execFile)
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const CLI: BuiltCli = {
  main: join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'bin', 'meshsig.js'),
  cleanup: () => undefined,
}
const PROCS = 6
const DIRECT = 200
const REGS = 10
const IDLE_MS = 20_000
const ENV = { MESHSIG_RATE_LIMIT: '0' }

/** A running process of the bench, with its home and API port. */
interface Proc {
  readonly p: NodeProcess
  readonly port: number
  readonly home: { dir: string; cleanup: () => void }
  readonly token: () => string
}

/** CPU ms (user + system) process `pid` used so far. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
}

/** Per pid, per socket (local→peer): bytes sent + received so far, sockets touching an API port left out. */
async function socketBytes(apiPorts: ReadonlySet<number>): Promise<Map<number, Map<string, number>>> {
  const { stdout } = await run('ss', ['-tinpH'], { maxBuffer: 64 * 1024 * 1024 })
  const out = new Map<number, Map<string, number>>()
  const lines = stdout.split('\n')
  for (let i = 0; i < lines.length - 1; i++) {
    const head = lines[i]!
    const pid = /pid=(\d+)/.exec(head)?.[1]
    if (pid === undefined) continue
    const cols = head.trim().split(/\s+/)
    const [local, peer] = [cols[3] ?? '', cols[4] ?? '']
    const port = (a: string): number => Number(a.slice(a.lastIndexOf(':') + 1))
    if (apiPorts.has(port(local)) || apiPorts.has(port(peer))) continue
    const info = lines[i + 1] ?? ''
    const sent = Number(/bytes_sent:(\d+)/.exec(info)?.[1] ?? 0)
    const recv = Number(/bytes_received:(\d+)/.exec(info)?.[1] ?? 0)
    const m = out.get(Number(pid)) ?? new Map<string, number>()
    m.set(`${local}>${peer}`, sent + recv)
    out.set(Number(pid), m)
  }
  return out
}

/** Bytes of `pid` between two socket readings (a socket new in `b` counts whole; one closed meanwhile is lost). */
function bytesBetween(a: Map<number, Map<string, number>>, b: Map<number, Map<string, number>>, pid: number): number {
  let n = 0
  for (const [k, v] of b.get(pid) ?? []) n += v - (a.get(pid)?.get(k) ?? 0)
  return n
}

/** CPU ms and mesh bytes per process over one window. */
interface Usage {
  readonly ms: number
  readonly cpu: number[]
  readonly bytes: number[]
}

async function usage(procs: readonly Proc[], fn: () => Promise<void>): Promise<Usage> {
  const ports = new Set(procs.map((x) => x.port))
  const pids = procs.map((x) => x.p.child.pid!)
  const s0 = await socketBytes(ports)
  const c0 = pids.map(cpuMs)
  const t0 = performance.now()
  await fn()
  const ms = performance.now() - t0
  const s1 = await socketBytes(ports)
  return { ms, cpu: pids.map((pid, i) => cpuMs(pid) - c0[i]!), bytes: pids.map((pid) => bytesBetween(s0, s1, pid)) }
}

async function spawn(peers: readonly string[]): Promise<Proc> {
  const home = tempDir('meshsig-scale-')
  const port = await freePort()
  const p = startProcess(
    CLI,
    home.dir,
    port,
    peers.flatMap((x) => ['--peer', x]),
    ENV,
  )
  await waitFor(async () => (await getJson<{ mesh: string }>(`${p.url}/health`)).mesh === 'ready', {
    timeout: 60_000,
    interval: 100,
  })
  return { p, port, home, token: () => readFileSync(join(home.dir, 'api-token'), 'utf8').trim() }
}

async function stopProcs(procs: readonly Proc[]): Promise<void> {
  for (const x of procs) if (x.p.child.exitCode === null) x.p.child.kill('SIGTERM')
  await Promise.all(procs.map((x) => x.p.exited()))
  for (const x of procs) x.home.cleanup()
}

async function register(x: Proc, name: string): Promise<string> {
  const r = await postJson<{ identity: { did: string } }>(`${x.p.url}/agents/register`, { name }, x.token())
  if (r.status >= 300) throw new Error(`register on ${x.p.url}: ${r.status}`)
  return r.body.identity.did
}

async function knowsAll(procs: readonly Proc[], dids: readonly string[]): Promise<boolean> {
  for (const x of procs) for (const d of dids) if ((await fetch(`${x.p.url}/agents/${d}`)).status !== 200) return false
  return true
}

/** Process `i`'s idle rates (CPU ms and bytes per wall ms), the mean of the idle windows. */
function idleOf(idle: readonly Usage[], i: number): { cpu: number; bytes: number } {
  const mean = (f: (u: Usage) => number): number => idle.reduce((s, u) => s + f(u) / u.ms, 0) / idle.length
  return { cpu: mean((u) => u.cpu[i]!), bytes: mean((u) => u.bytes[i]!) }
}

/** One cell per process: CPU µs (÷ raw) and bytes per operation above its idle rate. */
function cells(u: Usage, idle: readonly Usage[], ops: number, raw: number): string[] {
  return u.cpu.map((c, i) => {
    const rate = idleOf(idle, i)
    const us = ((c - rate.cpu * u.ms) * 1000) / ops
    const b = (u.bytes[i]! - rate.bytes * u.ms) / ops
    return `${fmtInt(us)} µs (${(us / raw).toFixed(1)}×), ${fmtInt(b)} B`
  })
}

/** Idle per second, per process: CPU ms and bytes, each idle window. */
function idleCells(idle: readonly Usage[]): string[] {
  return idle[0]!.cpu.map((_, i) =>
    idle.map((u) => `${fmtInt((u.cpu[i]! * 1000) / u.ms)} ms, ${fmtInt((u.bytes[i]! * 1000) / u.ms)} B`).join('; '),
  )
}

/** Six processes: per registration and per direct message, each process's CPU and bytes above idle. */
async function perProcess(raw: number): Promise<string[]> {
  const procs: Proc[] = []
  try {
    for (let i = 0; i < PROCS; i++) {
      const seed = procs[Math.floor((i - 1) / 2)]
      procs.push(await spawn(seed ? [`ws://127.0.0.1:${seed.port}`] : []))
    }
    const dids: string[] = []
    for (const [i, x] of procs.entries()) dids.push(await register(x, `proc-agent-${i}`))
    await waitFor(() => knowsAll(procs, dids), { timeout: 120_000, interval: 500 })
    await new Promise((r) => setTimeout(r, 5_000))
    const idle = [await usage(procs, () => sleep(IDLE_MS))]
    const regs: string[] = []
    const reg = await usage(procs, async () => {
      for (let k = 0; k < REGS; k++) regs.push(await register(procs[2]!, `joiner-${k}`))
      await sleep(8_000) // no polling inside the window: it would cost every process
    })
    const regOk = await knowsAll(procs, regs)
    const s = procs[1]!
    const send = async (message: string): Promise<string> => {
      const r = await postJson<{ id: string }>(
        `${s.p.url}/messages/send`,
        { fromDid: dids[1], toDid: dids[4], message },
        s.token(),
      )
      return r.body.id
    }
    const delivered = async (id: string): Promise<boolean> =>
      (await getJson<{ delivery: { state: string } | null }>(`${s.p.url}/messages/${id}`)).delivery?.state ===
      'delivered'
    const warm: string[] = []
    for (let k = 0; k < 20; k++) warm.push(await send(`warm-${k}`))
    await waitFor(() => delivered(warm[warm.length - 1]!), { timeout: 60_000, interval: 200 })
    const ids: string[] = []
    const dm = await usage(procs, async () => {
      for (let k = 0; k < DIRECT; k++) ids.push(await send(`m${k}`))
      await waitFor(() => delivered(ids[ids.length - 1]!), { timeout: 60_000, interval: 200 }) // asks the sender only
      await sleep(1_000)
    })
    idle.push(await usage(procs, () => sleep(IDLE_MS)))
    const allDelivered = (await Promise.all(ids.map(delivered))).every(Boolean)
    const roles = procs.map((_, i) => (i === 1 ? 'sender' : i === 4 ? 'recipient' : i === 2 ? 'registering' : 'other'))
    return [
      `${PROCS} \`meshsig start\` processes (dist/, TCP on loopback, each dialling one earlier process: a tree), one agent`,
      `each. Idle measured over ${IDLE_MS / 1000} s before and after. Registrations: ${REGS} on process 2, then 8 s without polling (all held`,
      `them after: ${regOk}).`,
      `Direct: ${DIRECT} messages from process 1's agent to process 4's (after 20 to warm up; all receipted: ${allDelivered}); the`,
      "sender's CPU includes its HTTP API (POST /messages/send, GET /messages/:id polls).",
      'Per process and per operation, above its own idle rate: CPU µs (÷ raw verify) and mesh bytes sent + received.',
      '',
      `| per operation | ${procs.map((_, i) => `process ${i} (${roles[i]})`).join(' | ')} |`,
      `| --- | ${procs.map(() => '---:').join(' | ')} |`,
      `| registration | ${cells(reg, idle, REGS, raw).join(' | ')} |`,
      `| direct message | ${cells(dm, idle, DIRECT, raw).join(' | ')} |`,
      `| idle, per s (before; after) | ${idleCells(idle).join(' | ')} |`,
    ]
  } finally {
    await stopProcs(procs)
  }
}

/** A poller in its own process (so this process's own pauses do not count): GET `url` every 100 ms. */
const POLLER = `
let worst = 0, polls = 0, failed = 0, stop = false
process.on('SIGTERM', () => { stop = true })
const url = process.argv[1]
while (!stop) {
  const t0 = performance.now()
  const ok = await fetch(url).then((r) => r.ok, () => false)
  if (ok) { worst = Math.max(worst, performance.now() - t0); polls++ } else if (polls > 0) failed++
  await new Promise((r) => setTimeout(r, 100))
}
process.stdout.write(JSON.stringify({ worst, polls, failed }))
`

/** Worst latency (ms), answers and failures (after the first answer) of the poller. */
interface HealthPolls {
  readonly worst: number
  readonly polls: number
  readonly failed: number
}

function pollHealth(url: string): { stop(): Promise<HealthPolls> } {
  const child = spawnChild(process.execPath, ['--input-type=module', '-e', POLLER, url], {
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let result: Promise<HealthPolls> | undefined
  return {
    stop: () =>
      (result ??= (async () => {
        child.kill('SIGTERM')
        await exited
        return out ? (JSON.parse(out) as HealthPolls) : { worst: Number.NaN, polls: 0, failed: 0 }
      })()),
  }
}

/** The last non-empty line a process printed (shortened). */
function lastLine(out: string): string {
  const lines = out.trim().split('\n')
  return (lines[lines.length - 1] ?? '').slice(0, 160).replaceAll('|', '/')
}

/** A fresh process joins `seedAddr` (holding `agents` agents): bytes, time, CPU and the worst /health latency. */
async function joinOnce(seedAddr: string, agents: number, ownBytes: number, timeoutMs: number): Promise<string> {
  const home = tempDir('meshsig-join-')
  const port = await freePort()
  const t0 = performance.now()
  const p = startProcess(CLI, home.dir, port, ['--peer', seedAddr], ENV)
  const x: Proc = { p, port, home, token: () => '' }
  let held = 0
  const poller = pollHealth(`${p.url}/health`)
  try {
    await waitFor(async () => (await fetch(`${p.url}/health`)).ok, { timeout: 60_000, interval: 50 })
    const ports = new Set([port])
    const end = t0 + timeoutMs
    let bytes = 0
    let cpu = 0
    while (performance.now() < end && p.child.exitCode === null) {
      held = await getJson<{ agents: number }>(`${p.url}/stats`).then(
        (x) => x.agents,
        () => held,
      )
      bytes = bytesBetween(new Map(), await socketBytes(ports), p.child.pid!) || bytes
      cpu = p.child.exitCode === null ? cpuMs(p.child.pid!) : cpu
      if (held >= agents) break
      await sleep(1_000)
    }
    const ms = performance.now() - t0
    const died = p.child.exitCode === null ? '' : ` (the process exited, ${p.child.exitCode}: ${lastLine(p.output())})`
    const end2 = held >= agents ? '' : died || ' (gave up)'
    const cells = [fmtInt(agents), `${fmtInt(held)}${end2}`, fmtInt(ownBytes)]
    const h = await poller.stop()
    cells.push(
      fmtInt(bytes),
      (bytes / ownBytes).toFixed(2),
      fmtInt(ms),
      fmtInt(cpu),
      fmtInt(h.worst),
      `${h.polls} / ${h.failed}`,
    )
    return `| ${cells.join(' | ')} |`
  } finally {
    await poller.stop()
    await stopProcs([x])
  }
}

/** Registry sizes a fresh process joins (MESH_SCALE_100K=0 leaves out 100k, whose signing and filling take minutes). */
function sizes(): number[] {
  return process.env.MESH_SCALE_100K === '0' ? [1_000, 10_000] : [1_000, 10_000, 100_000]
}

/** A seed node in this process (TCP) grows to each size; a fresh process joins it each time. */
async function joins(): Promise<string[]> {
  const seed = await startNode({ transports: 'tcp' })
  const rows: string[] = []
  try {
    let held = 0
    let own = 0
    for (const size of sizes()) {
      process.stderr.write(`mesh-scale: signing and filling ${fmtInt(size - held)} agents…\n`)
      own += fillRegistry(seed, signAgents(size - held, seed, `fill-${size}`))
      held = size
      process.stderr.write(`mesh-scale: a fresh process joins ${fmtInt(size)} agents…\n`)
      rows.push(await joinOnce(seed.info().multiaddrs[0]!, seed.store.agents.count(), own, 600_000))
    }
  } finally {
    await seed.stop()
  }
  return rows
}

/** The process section of the mesh-scale bench. */
export async function processSection(raw: number): Promise<string> {
  process.stderr.write('mesh-scale: six processes…\n')
  const per = await perProcess(raw)
  const joined = await joins()
  return [
    '### Separate node processes',
    '',
    ...per,
    '',
    '#### A fresh process joins a mesh (an in-process seed node over TCP holding the registry)',
    '',
    'Agents signed in the bench process and put into the seed through its acceptance function; the fresh',
    '`meshsig start` process dials the seed and pulls the registry by reconciliation (docs/protocol.md §9). Bytes: the',
    'process’s mesh socket bytes (both directions) until it held every agent; items’ own bytes: the JSON of the',
    'envelopes it had to learn (`icp` + `reg` per agent); CPU: the process’s whole CPU from spawn; /health polled every',
    '100 ms by a separate poller process from the first answer to the end (target: worst < 1 s).',
    '',
    '| agents | held at the end | items’ own bytes | bytes moved | ratio | wall ms from spawn | process CPU ms | worst /health ms | /health answered / failed |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...joined,
  ].join('\n')
}
