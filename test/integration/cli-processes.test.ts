import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildCli, type BuiltCli } from '../cli/build-cli.js'
import { tempDir } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'

function freePort(): Promise<number> {
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

interface Proc {
  child: ChildProcess
  url: string
  output: () => string
}

function startProcess(cli: BuiltCli, home: string, port: number, extra: string[]): Proc {
  let out = ''
  const child = spawn(
    process.execPath,
    [cli.main, 'start', '--port', String(port), '--p2p-port', '0', '--name', `proc-${port}`, ...extra],
    {
      env: { ...process.env, MESHSIG_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()))
  return { child, url: `http://127.0.0.1:${port}`, output: () => out }
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url)
  if (!res.ok) throw new Error(`${url}: ${res.status}`)
  return (await res.json()) as Record<string, unknown>
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode)
    else child.once('exit', (code) => resolve(code))
  })
}

describe('two nodes as separate OS processes started with `meshsig start --peer`', () => {
  let cli: BuiltCli
  const homes = [tempDir(), tempDir()]
  const procs: Proc[] = []

  beforeAll(async () => {
    cli = buildCli()
    const [p1, p2] = [await freePort(), await freePort()]
    procs.push(startProcess(cli, homes[0]!.dir, p1, []))
    await waitFor(() => getJson(`${procs[0]!.url}/health`), { timeout: 30_000, interval: 100 })
    procs.push(startProcess(cli, homes[1]!.dir, p2, ['--peer', `ws://127.0.0.1:${p1}`]))
    await waitFor(() => getJson(`${procs[1]!.url}/health`), { timeout: 30_000, interval: 100 })
  }, 120_000)

  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL')
    cli?.cleanup()
    for (const h of homes) h.cleanup()
  })

  it("each sees the other's agents, and both stop cleanly on SIGTERM", async () => {
    const register = async (url: string, name: string): Promise<string> => {
      const res = await fetch(`${url}/agents/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, capabilities: [{ type: 'analysis' }] }),
      })
      expect(res.status).toBe(201)
      return ((await res.json()) as { identity: { did: string } }).identity.did
    }
    const a = await register(procs[0]!.url, 'agent-on-1')
    const b = await register(procs[1]!.url, 'agent-on-2')
    const agentsOn = async (url: string): Promise<{ did: string; origin: string }[]> =>
      ((await getJson(`${url}/agents`)) as { agents: { did: string; origin: string }[] }).agents
    await waitFor(async () => (await agentsOn(procs[1]!.url)).some((x) => x.did === a), {
      timeout: 30_000,
      interval: 200,
    })
    await waitFor(async () => (await agentsOn(procs[0]!.url)).some((x) => x.did === b), {
      timeout: 30_000,
      interval: 200,
    })
    expect((await agentsOn(procs[1]!.url)).find((x) => x.did === a)?.origin).toBe('remote')
    expect((await agentsOn(procs[0]!.url)).find((x) => x.did === b)?.origin).toBe('remote')

    for (const p of procs) p.child.kill('SIGTERM')
    const codes = await Promise.all(procs.map((p) => exitCode(p.child)))
    expect(codes, procs.map((p) => p.output()).join('\n---\n')).toEqual([0, 0])
  })
})
