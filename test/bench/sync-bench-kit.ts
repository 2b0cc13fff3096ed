/**
 * Pieces of the sync benchmark (sync.bench.ts): the serving peer in its own
 * process (sync-peer.ts) under IPC control, the bytes a TCP connection
 * carried as the kernel counts them (`ss -ti`), and a `/health` poller that
 * records the slowest answer.
 */
import { execFile, fork, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { get as httpGet } from 'node:http'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { serveApi, type ServedApi } from '../../api/server.js'
import type { MeshNode } from '../../node/mesh-node.js'

const run = promisify(execFile)

/** The serving peer's process. */
export interface ServingPeer {
  /** Add `n` agents; the items added and their encoded bytes. */
  fill(n: number): Promise<{ items: number; bytes: number }>
  /** Connect to the peer at `addr` and resolve once this peer holds at least `agents` agents. */
  join(addr: string, agents: number): Promise<{ agents: number }>
  info(): Promise<{ addr: string; peerId: string; root: string }>
  /** CPU time of the peer's process so far (µs). */
  cpuUs(): Promise<number>
  stop(): Promise<void>
}

/** Fork sync-peer.ts and wait until its node is up. */
export async function spawnServingPeer(): Promise<ServingPeer> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'sync-peer.ts')
  const child: ChildProcess = fork(script, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  const waiting: ((m: unknown) => void)[] = []
  child.on('message', (m) => waiting.shift()?.(m))
  const next = (): Promise<unknown> => new Promise((resolve) => waiting.push(resolve))
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`sync peer exited (${code})`))),
  )
  exited.catch(() => undefined)
  const ask = <T>(m: unknown): Promise<T> => {
    const answer = next()
    child.send(m as object)
    return Promise.race([answer, exited]) as Promise<T>
  }
  await Promise.race([next(), exited])
  return {
    fill: (n) => ask({ cmd: 'fill', n }),
    join: (addr, agents) => ask({ cmd: 'join', addr, agents }),
    info: () => ask({ cmd: 'info' }),
    cpuUs: async () => (await ask<{ us: number }>({ cmd: 'cpu' })).us,
    stop: async () => {
      const gone = new Promise((resolve) => child.once('exit', resolve))
      child.send({ cmd: 'stop' })
      await gone
    },
  }
}

/** The TCP port of a multiaddr like `/ip4/127.0.0.1/tcp/4001/p2p/…`. */
export function tcpPort(addr: string): number {
  const m = /\/tcp\/(\d+)/.exec(addr)
  if (!m) throw new Error(`no TCP port in ${addr}`)
  return Number(m[1])
}

/** Bytes sent plus received on this host's TCP connections to 127.0.0.1:`port`, as the kernel counts them. */
export async function wireBytes(port: number): Promise<number> {
  const { stdout } = await run('ss', ['-tinH', 'dst', `127.0.0.1:${port}`])
  let total = 0
  for (const m of stdout.matchAll(/bytes_(?:acked|received):(\d+)/g)) total += Number(m[1])
  return total
}

/** A node's API on an OS-chosen port, for `/health` polls. */
export function serveHealth(node: MeshNode): Promise<ServedApi> {
  const config = {
    ...{ home: '/nonexistent', port: 0, host: '127.0.0.1', p2pPort: 0, db: ':memory:', name: 'bench' },
    ...{ peers: [], maxSkewMs: 300_000, rateLimit: 0, trustProxy: [], allowedHosts: [], trustLoopback: false },
  }
  return serveApi(node, config, { token: randomBytes(32).toString('base64url'), verifyWorkers: 0 })
}

/** One GET on a fresh connection (no keep-alive socket the server may be closing); its status. */
function getOnce(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
  })
}

/**
 * Poll `url`/health every `everyMs`, each on a fresh connection; `stop()`
 * gives the slowest answer (ms, counted from when the poll was due, so a
 * stall that delays sending counts), the polls made and those that failed.
 */
export function pollHealth(
  url: string,
  everyMs = 100,
): { stop(): Promise<{ maxMs: number; polls: number; failed: number }> } {
  let maxMs = 0
  let polls = 0
  let failed = 0
  let running = true
  const loop = (async () => {
    let due = performance.now()
    while (running) {
      const status = await getOnce(`${url}/health`).catch(() => 0)
      if (status !== 200) failed++
      maxMs = Math.max(maxMs, performance.now() - due)
      polls++
      due = performance.now() + everyMs // a timer firing late is a stall too: the next poll counts from here
      await new Promise((r) => setTimeout(r, everyMs))
    }
  })()
  return {
    stop: async () => {
      running = false
      await loop
      return { maxMs, polls, failed }
    },
  }
}
