/**
 * Attack review 98, F1: `GET /history/links` (open to anyone, the dashboard's
 * first load) and `GET /messages?did=` counted message pairs from every
 * message stored since the last call, read whole (bodies included) into one
 * array; the counts lived in memory only, so the first call after every start
 * read the whole table. Another local user, anonymous, registers agents (each
 * credential a rate-limit bucket of its own) and stores big messages; one GET
 * then held them all at once: 400 messages of 256 Ki 'é' killed a node with a
 * 160 MB heap ("JavaScript heap out of memory"), and again after each restart.
 *
 * Now the store counts messages per pair and per DID as it stores them
 * (migration 20, decision 0067): the node answers from those counts within the
 * same heap, and again after a restart, with the same counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildCli, type BuiltCli } from '../cli/build-cli.js'
import { tempDir } from '../helpers/mesh.js'
import { freePort, getJson, postJson, startProcess, type NodeProcess } from '../helpers/node-process.js'
import { waitFor } from '../helpers/wait-for.js'

const MESSAGES = 400
const BODY = 'é'.repeat(256 * 1024)
/** A heap the node works in: it takes every send below within it. */
const HEAP_MB = 160

let cli: BuiltCli
let home: { dir: string; cleanup: () => void }
let proc: NodeProcess

/** Start `meshsig start` on the test's home with a 160 MB heap, and wait until it answers. */
async function start(): Promise<NodeProcess> {
  // the rate limit is off only to store the messages quickly; the attack itself is one GET
  const p = startProcess(cli, home.dir, await freePort(), [], {
    MESHSIG_RATE_LIMIT: '0',
    NODE_OPTIONS: `--max-old-space-size=${HEAP_MB}`,
  })
  await waitFor(() => getJson(`${p.url}/health`), { timeout: 60_000, interval: 100 })
  return p
}

/** An agent registered anonymously, as another local user does. */
async function register(name: string): Promise<{ did: string; credential: string }> {
  const reg = await postJson<{ identity: { did: string; credential: string } }>(`${proc.url}/agents/register`, {
    name,
  })
  expect(reg.status).toBe(201)
  return reg.body.identity
}

/** `GET path` on the node; status -1 when the connection died with it. */
async function get(path: string): Promise<{ status: number; body: unknown }> {
  try {
    const res = await fetch(proc.url + path)
    return { status: res.status, body: await res.json() }
  } catch {
    return { status: -1, body: undefined }
  }
}

/** Fail when the node ran out of heap (its last words may come just after its socket closed). */
async function expectAlive(status: number, what: string): Promise<void> {
  if (status !== 200) await Promise.race([proc.exited(), new Promise((resolve) => setTimeout(resolve, 5000))])
  expect(/heap out of memory/i.test(proc.output()), `the node ran out of heap answering ${what}`).toBe(false)
  expect(status).toBe(200)
  expect((await getJson<{ did: string }>(`${proc.url}/health`)).did).toBeTypeOf('string')
}

beforeAll(async () => {
  cli = buildCli()
  home = tempDir()
  proc = await start()
}, 120_000)

afterAll(async () => {
  proc?.child.kill('SIGKILL')
  await proc?.exited()
  cli?.cleanup()
  home?.cleanup()
})

describe('GET /history/links and /messages?did= after many big messages, as another local user', () => {
  it('answer from the counts, and the node stays up, before and after a restart', async () => {
    const sender = await register('filler')
    const recipient = await register('target')
    for (let i = 0; i < MESSAGES; i++) {
      const sent = await postJson(
        `${proc.url}/messages/send`,
        { fromDid: sender.did, toDid: recipient.did, message: BODY },
        sender.credential,
      )
      expect(sent.status).toBe(200)
    }
    expect(proc.child.exitCode, 'the node took every send').toBeNull()
    const pair = { from: sender.did, to: recipient.did, count: MESSAGES, lastTs: expect.any(Number) }

    for (const round of ['first', 'after a restart']) {
      const links = await get('/history/links')
      await expectAlive(links.status, `GET /history/links (${round})`)
      expect(links.body).toEqual({ links: [pair], total: 1, messages: MESSAGES })
      const did = await get(`/messages?did=${recipient.did}&limit=1`)
      await expectAlive(did.status, `GET /messages?did= (${round})`)
      expect(did.body).toMatchObject({ total: MESSAGES })
      if (round === 'first') {
        proc.child.kill('SIGTERM')
        await proc.exited()
        proc = await start()
      }
    }
  }, 600_000)
})
