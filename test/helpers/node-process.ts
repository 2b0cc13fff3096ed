/**
 * meshsig nodes as real OS processes (`meshsig start`), for tests of what
 * only a separate process shows: clean shutdown, crash safety, two nodes
 * that share nothing but the network.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import type { BuiltCli } from '../cli/build-cli.js'

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

/** A running `meshsig start` process. */
export interface NodeProcess {
  readonly child: ChildProcess
  /** Base URL of its API. */
  readonly url: string
  /** Everything it printed so far (stdout and stderr). */
  output(): string
  /** Resolves with its exit code once it has exited. */
  exited(): Promise<number | null>
}

/** Spawn `meshsig start` on `port` with `home` as MESHSIG_HOME. */
export function startProcess(
  cli: BuiltCli,
  home: string,
  port: number,
  extra: readonly string[] = [],
  env: Record<string, string> = {},
  opts: { p2pPort?: number } = {},
): NodeProcess {
  let out = ''
  const p2p = String(opts.p2pPort ?? 0)
  const args = [cli.main, 'start', '--port', String(port), '--p2p-port', p2p, '--name', `proc-${port}`, ...extra]
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env, MESHSIG_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()))
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, url: `http://127.0.0.1:${port}`, output: () => out, exited: () => exit }
}

/** GET a JSON document; throws on a non-2xx answer. */
export async function getJson<T = Record<string, unknown>>(url: string): Promise<T> {
  const res = await fetch(url)
  if (!res.ok) throw new Error(`${url}: ${res.status}`)
  return (await res.json()) as T
}

/** POST JSON and return status and parsed body. */
export async function postJson<T = Record<string, unknown>>(
  url: string,
  body: unknown,
  bearer?: string,
): Promise<{ status: number; body: T }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify(body),
  })
  return { status: res.status, body: (await res.json()) as T }
}

/** A process's resident memory now (`VmRSS`) or at its peak so far (`VmHWM`), in bytes, from /proc. */
export function procMemory(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024
}
