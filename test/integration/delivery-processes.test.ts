/**
 * The durable outbox across a restart of the sender's process (docs/protocol.md
 * §10, issue 12): two `meshsig start` processes; the recipient's node stops,
 * the sender (now without any peer) accepts a direct message, is restarted
 * with the same home, and delivers it with a receipt once the recipient's
 * node comes back.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildCli, type BuiltCli } from '../cli/build-cli.js'
import { tempDir } from '../helpers/mesh.js'
import { freePort, getJson, postJson, startProcess, type NodeProcess } from '../helpers/node-process.js'
import { waitFor } from '../helpers/wait-for.js'

interface Delivery {
  readonly role: string
  readonly state: string
  readonly receipt: { msg: string; to: string; node: string } | null
}

describe('a direct message survives a restart of the sender process with no peer', () => {
  let cli: BuiltCli
  const homes = [tempDir(), tempDir()]
  const procs: NodeProcess[] = []

  beforeAll(() => {
    cli = buildCli()
  }, 120_000)

  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL')
    await Promise.all(procs.map((p) => p.exited()))
    cli?.cleanup()
    for (const h of homes) h.cleanup()
  })

  it('is pending while the recipient’s node is away, also after the restart, then delivered with a receipt', async () => {
    const [apiA, apiB, p2pA, p2pB] = [await freePort(), await freePort(), await freePort(), await freePort()]
    const env = { MESHSIG_RATE_LIMIT: '0' }
    const start = async (i: 0 | 1): Promise<NodeProcess> => {
      const p =
        i === 0
          ? startProcess(cli, homes[0]!.dir, apiA, [], env, { p2pPort: p2pA })
          : startProcess(cli, homes[1]!.dir, apiB, ['--peer', `ws://127.0.0.1:${apiA}`], env, { p2pPort: p2pB })
      procs.push(p)
      await waitFor(() => getJson(`${p.url}/health`), { timeout: 30_000, interval: 100 })
      return p
    }
    const stop = async (p: NodeProcess): Promise<void> => {
      p.child.kill('SIGTERM')
      expect(await p.exited(), p.output()).toBe(0)
    }
    let a = await start(0)
    let b = await start(1)
    const token = (i: number): string => readFileSync(join(homes[i]!.dir, 'api-token'), 'utf8').trim()
    const register = async (url: string, name: string, i: number): Promise<string> =>
      (await postJson<{ identity: { did: string } }>(`${url}/agents/register`, { name }, token(i))).body.identity.did
    const alice = await register(a.url, 'alice', 0)
    const bob = await register(b.url, 'bob', 1)
    await waitFor(async () => (await fetch(`${a.url}/agents/${bob}`)).status === 200, {
      timeout: 30_000,
      interval: 200,
    })
    const hostDid = (await getJson<{ did: string }>(`${b.url}/health`)).did
    await stop(b)
    await waitFor(async () => (await getJson<{ peers: unknown[] }>(`${a.url}/peers`)).peers.length === 0, {
      timeout: 30_000,
      interval: 200,
    })

    const sent = await postJson<{ id: string }>(
      `${a.url}/messages/send`,
      { fromDid: alice, toDid: bob, message: 'while alone' },
      token(0),
    )
    expect(sent.status).toBeLessThan(300)
    const delivery = async (url: string): Promise<Delivery | null> =>
      (await getJson<{ delivery: Delivery | null }>(`${url}/messages/${sent.body.id}`)).delivery
    expect((await delivery(a.url))?.state).toBe('pending')
    await stop(a)
    a = await start(0)
    expect((await delivery(a.url))?.state).toBe('pending')

    b = await start(1)
    const done = await waitFor(async () => ((await delivery(a.url))?.state === 'delivered' ? delivery(a.url) : null), {
      timeout: 60_000,
      interval: 200,
    })
    expect(done?.receipt).toMatchObject({ msg: sent.body.id, to: bob, node: hostDid })
    expect(await delivery(b.url)).toMatchObject({ role: 'host', state: 'delivered' })
    await stop(a)
    await stop(b)
  }, 240_000)
})
