/**
 * The real `meshsig start` process the API benchmarks load (issue 13): start
 * it on a free port with a home, wait for `/health` and `"mesh": "ready"`,
 * read its CPU time and RSS from /proc, and drive it with fetch and
 * autocannon. Shared by `api.bench.ts` (throughput rows) and
 * `api-memory.ts` (RSS figures).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'bin', 'meshsig.js')

export interface Node {
  readonly child: ChildProcess
  readonly url: string
  readonly home: string
  readonly msToHealth: number
  /** CPU time (user + system) the node had used when `/health` first answered: robust to a loaded machine. */
  readonly cpuMsToHealth: number
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => resolve(port))
    })
  })
}

export async function startNode(home: string): Promise<Node> {
  const port = await freePort()
  const t0 = performance.now()
  const child = spawn(process.execPath, [CLI, 'start', '--port', String(port), '--p2p-port', '0'], {
    env: { ...process.env, MESHSIG_HOME: home, MESHSIG_RATE_LIMIT: '0' },
    stdio: 'ignore',
  })
  const url = `http://127.0.0.1:${port}`
  let exited: number | null | undefined
  child.once('exit', (code) => (exited = code))
  for (;;) {
    if (exited !== undefined) throw new Error(`meshsig start exited (${exited}) before answering /health`)
    try {
      if ((await fetch(url + '/health')).ok) {
        return { child, url, home, msToHealth: performance.now() - t0, cpuMsToHealth: cpuMs(child.pid) }
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** Wall time from `node.msToHealth`'s start until `/health` says `"mesh": "ready"`. */
export async function msToReady(node: Node, t0: number): Promise<number> {
  for (;;) {
    const health = (await (await fetch(node.url + '/health')).json()) as { mesh?: string }
    if (health.mesh === 'ready') return performance.now() - t0
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** CPU time (user + system, ms) process `pid` has used so far, from /proc. */
export function cpuMs(pid: number | undefined): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
}

export async function stopNode(node: Node): Promise<void> {
  const exited = new Promise((r) => node.child.once('exit', r))
  node.child.kill('SIGTERM')
  await exited
}

export function rssMb(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
}

export async function post(url: string, body: unknown, bearer?: string): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (bearer) headers.authorization = `Bearer ${bearer}`
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) })
  return (await res.json()) as Record<string, unknown>
}

export async function load(
  url: string,
  body: unknown,
  c: number,
  s: number,
  bearer?: string,
): Promise<autocannon.Result> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (bearer) headers.authorization = `Bearer ${bearer}`
  return autocannon({ url, method: 'POST', headers, body: JSON.stringify(body), connections: c, duration: s })
}
