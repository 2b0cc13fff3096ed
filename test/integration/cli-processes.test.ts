import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildCli, type BuiltCli } from '../cli/build-cli.js'
import { tempDir } from '../helpers/mesh.js'
import { freePort, getJson, postJson, startProcess, type NodeProcess } from '../helpers/node-process.js'
import { waitFor } from '../helpers/wait-for.js'

describe('two nodes as separate OS processes started with `meshsig start --peer`', () => {
  let cli: BuiltCli
  const homes = [tempDir(), tempDir()]
  const procs: NodeProcess[] = []

  beforeAll(async () => {
    cli = buildCli()
    const [p1, p2] = [await freePort(), await freePort()]
    procs.push(startProcess(cli, homes[0]!.dir, p1))
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
      const r = await postJson<{ identity: { did: string } }>(`${url}/agents/register`, {
        name,
        capabilities: [{ type: 'analysis' }],
      })
      expect(r.status).toBe(201)
      return r.body.identity.did
    }
    const a = await register(procs[0]!.url, 'agent-on-1')
    const b = await register(procs[1]!.url, 'agent-on-2')
    const agentsOn = async (url: string): Promise<{ did: string; origin: string }[]> =>
      (await getJson<{ agents: { did: string; origin: string }[] }>(`${url}/agents`)).agents
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
    const codes = await Promise.all(procs.map((p) => p.exited()))
    expect(codes, procs.map((p) => p.output()).join('\n---\n')).toEqual([0, 0])
  })
})
