/**
 * Request bodies that trickle in cannot take the node's memory (docs/api.md, "Request bodies"; decision 0092).
 * What a user would check: a few hundred POST /verify requests that each declare 1 MiB and never send the last
 * byte leave the node within its memory budget, most of them answered 429 at once, instead of held whole for the
 * 30 s of `requestTimeout`.
 *
 * The attack (review H3-4): every POST reads its JSON body (up to 1 MiB) before answering; the rate limit counts a
 * request at its head, not how many are open. Any loopback user registers agents without a token (each credential
 * is a rate-limit bucket of its own) and opens POST /verify requests declaring 1 MiB, sending all but the last
 * byte. Measured with test/attack-scripts/slow-bodies.mjs, 600 such requests over 11 credentials: before, a fresh node went from
 * 118 MB to 728 MB RSS for 30 s (issue 13: at most 200 MB after load); with the body budget, 120 to 178 MB peak; the test holds it under 256 MB.
 */
import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildCli, type BuiltCli } from '../cli/build-cli.js'
import { tempDir } from '../helpers/mesh.js'
import { freePort, getJson, postJson, procMemory, startProcess, type NodeProcess } from '../helpers/node-process.js'
import { waitFor } from '../helpers/wait-for.js'

const REQUESTS = 300
const PER_CREDENTIAL = 55 // under the default 60 a minute
const LENGTH = 1024 * 1024 // the default body limit
// the attack took the node to 447 MB and more; what the node holds for it is now bounded, and the rest is the
// process's own (issue 13's 200 MB after load is the benchmark's to measure, on a quiet machine: this test
// runs next to others, and its peak was 178-197 MB alone)
const RSS_BOUND = 256 * 1024 * 1024

let cli: BuiltCli
let home: { dir: string; cleanup: () => void }
let proc: NodeProcess
const sockets: Socket[] = []

beforeAll(async () => {
  cli = buildCli()
  home = tempDir()
  proc = startProcess(cli, home.dir, await freePort()) // default limits and rate limit
  await waitFor(() => getJson(`${proc.url}/health`), { timeout: 60_000, interval: 100 })
}, 120_000)

afterAll(async () => {
  for (const s of sockets) s.destroy()
  proc?.child.kill('SIGTERM')
  await proc?.exited()
  cli?.cleanup()
  home?.cleanup()
})

describe('POST bodies that trickle in', () => {
  it('do not take the node past its memory budget', async () => {
    const port = Number(new URL(proc.url).port)
    const credentials: string[] = []
    for (let i = 0; i < Math.ceil(REQUESTS / PER_CREDENTIAL); i++) {
      const r = await postJson<{ identity: { credential: string } }>(`${proc.url}/agents/register`, { name: `b${i}` })
      expect(r.status).toBe(201) // no token: open on loopback
      credentials.push(r.body.identity.credential)
    }
    const body = Buffer.alloc(LENGTH - 1, 0x20)
    body[0] = 0x7b // '{' and whitespace: a valid prefix, the last byte never comes
    let answered = 0
    for (let i = 0; i < REQUESTS; i++) {
      const s = connect(port, '127.0.0.1')
      s.on('error', () => undefined)
      s.on('data', () => (answered += 1))
      s.write(
        `POST /verify HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${LENGTH}\r\nAuthorization: Bearer ${credentials[Math.floor(i / PER_CREDENTIAL)]}\r\n` +
          `X-Nonce: ${randomBytes(4).toString('hex')}\r\n\r\n`,
      )
      s.write(body)
      sockets.push(s)
    }
    // every body but its last byte has left the client
    await waitFor(() => sockets.every((s) => s.writableLength === 0), { timeout: 60_000 })
    await new Promise((resolve) => setTimeout(resolve, 2000)) // the node's reads of what the kernel holds
    const peak = procMemory(proc.child.pid, 'VmHWM')
    console.log(
      `${REQUESTS} trickling bodies: node RSS ${(procMemory(proc.child.pid, 'VmRSS') / 2 ** 20).toFixed(0)} MB, peak ${(peak / 2 ** 20).toFixed(0)} MB, answered ${answered}`,
    )
    expect(peak).toBeLessThanOrEqual(RSS_BOUND)
  }, 180_000)
})
