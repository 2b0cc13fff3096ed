/**
 * `meshsig start` and its ports (issue 13): a port already in use ends the
 * process at once with a non-zero code and one line naming the port and the
 * flag that moves it; a node that can listen answers `/health` with the state
 * of its mesh (`starting`, then `ready`). A second node on the same home is
 * refused at once, whatever its ports (decision 0042).
 */
import { createServer, type Server } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildCli, type BuiltCli } from './build-cli.js'
import { tempDir } from '../helpers/mesh.js'
import { freePort, getJson, startProcess } from '../helpers/node-process.js'
import { waitFor } from '../helpers/wait-for.js'

let cli: BuiltCli
let home: { dir: string; cleanup(): void }
let busy: Server
let busyPort: number

beforeAll(async () => {
  cli = buildCli()
  home = tempDir('meshsig-ports-')
  busy = createServer()
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
  const addr = busy.address()
  busyPort = typeof addr === 'object' && addr ? addr.port : 0
}, 120_000)

afterAll(async () => {
  await new Promise((resolve) => busy.close(resolve))
  cli?.cleanup()
  home?.cleanup()
})

/** Wait for the process to end, or kill it after `ms` and say so. */
async function exitWithin(proc: ReturnType<typeof startProcess>, ms: number): Promise<number | null | 'running'> {
  const timer = new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), ms))
  const result = await Promise.race([proc.exited(), timer])
  if (result === 'running') proc.child.kill('SIGKILL')
  return result
}

describe('meshsig start with a port in use', () => {
  it('the API port: exits non-zero within 5 s, one line naming the port and --port', async () => {
    const proc = startProcess(cli, home.dir, busyPort)
    const code = await exitWithin(proc, 5_000)
    expect(code).not.toBe('running')
    expect(code).not.toBe(0)
    expect(proc.output()).toContain(`127.0.0.1:${busyPort}`)
    expect(proc.output()).toContain('--port')
    expect(proc.output()).not.toMatch(/\n\s+at /) // no stack trace
  })

  it('the mesh port: exits non-zero within 5 s, one line naming the port and --p2p-port', async () => {
    const port = await freePort()
    const proc = startProcess(cli, home.dir, port, [], {}, { p2pPort: busyPort })
    const code = await exitWithin(proc, 5_000)
    expect(code).not.toBe('running')
    expect(code).not.toBe(0)
    expect(proc.output()).toContain(String(busyPort))
    expect(proc.output()).toContain('--p2p-port')
    expect(proc.output()).not.toMatch(/\n\s+at /)
  })
})

describe('meshsig start with a proxy on a port the node takes', () => {
  it('exits 2 before listening, naming the port and whose it is', async () => {
    const port = await freePort()
    const p2p = await freePort()
    for (const [proxy, owner] of [
      [`${p2p}:3001`, 'the mesh TCP port'],
      [`${p2p + 1}:3001`, 'the mesh WebSocket port'],
      [`${port}:3001`, 'the API port'],
    ] as const) {
      const proc = startProcess(cli, home.dir, port, ['--proxy', proxy], {}, { p2pPort: p2p })
      expect(await exitWithin(proc, 5_000)).toBe(2)
      expect(proc.output()).toContain(`--proxy: port ${proxy.split(':')[0]} is ${owner}`)
    }
  })
})

describe('meshsig start that can listen', () => {
  it('answers /health with the mesh state and reaches "ready"; stops cleanly', async () => {
    const port = await freePort()
    const proc = startProcess(cli, home.dir, port)
    const first = await waitFor(() => getJson<{ mesh: string }>(`${proc.url}/health`), {
      timeout: 30_000,
      interval: 20,
    })
    expect(['starting', 'ready']).toContain(first.mesh)
    await waitFor(async () => (await getJson<{ mesh: string }>(`${proc.url}/health`)).mesh === 'ready' || undefined, {
      timeout: 30_000,
    })
    proc.child.kill('SIGTERM')
    expect(await proc.exited()).toBe(0)
  })
})

describe('meshsig start on a home another node is using', () => {
  it('exits non-zero within 5 s, naming the database and --home; the first node is untouched', async () => {
    const first = startProcess(cli, home.dir, await freePort())
    await waitFor(async () => (await getJson<{ mesh: string }>(`${first.url}/health`)).mesh === 'ready' || undefined, {
      timeout: 30_000,
    })
    const second = startProcess(cli, home.dir, await freePort())
    const code = await exitWithin(second, 5_000)
    expect(code).not.toBe('running')
    expect(code).toBe(2)
    expect(second.output()).toMatch(/another meshsig node is using \S+: stop it first/)
    expect(second.output()).toContain('--home')
    expect(second.output()).not.toMatch(/\n\s+at /)
    // the same identity on another database (--db) would sign a second log under one DID
    const otherDb = startProcess(cli, home.dir, await freePort(), ['--db', `${home.dir}/second.db`])
    expect(await exitWithin(otherDb, 5_000)).toBe(2)
    expect(otherDb.output()).toMatch(/another meshsig node is using/)
    expect((await getJson<{ status: string }>(`${first.url}/health`)).status).toBe('ok')
    first.child.kill('SIGTERM')
    expect(await first.exited()).toBe(0)
    // the lock goes with the process: the home starts again at once
    const again = startProcess(cli, home.dir, await freePort())
    await waitFor(() => getJson<{ status: string }>(`${again.url}/health`), { timeout: 30_000 })
    again.child.kill('SIGKILL') // a crash, not a stop: the next start must not find a stale lock
    await again.exited()
    const afterCrash = startProcess(cli, home.dir, await freePort())
    await waitFor(
      async () => (await getJson<{ mesh: string }>(`${afterCrash.url}/health`)).mesh === 'ready' || undefined,
      { timeout: 30_000 },
    )
    afterCrash.child.kill('SIGTERM')
    expect(await afterCrash.exited()).toBe(0)
  }, 120_000)
})
