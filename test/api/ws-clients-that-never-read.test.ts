/**
 * Stream clients that never read are dropped once they are `stream.maxBufferedBytes` (1 MiB) behind, counting
 * what the kernel holds for them, and all of them together leave the node within its memory budget (docs/api.md,
 * "WebSocket event stream"; decision 0091; attack review H3-1).
 *
 * Any loopback user, without the token (registration is open on loopback, and its credential's upgrades take
 * anonymous slots), stores one broadcast message whose body is 170,000 control characters: each is written
 * `\u0001` in JSON, so the message's JSON is ~2 MiB, more than the snapshot's 1 MiB of messages
 * (`snapshot.messageBytes`): the snapshot must leave it out. It then opens the 192 anonymous slots from plain
 * sockets with the kernel's default buffers (unlike ws-stalled-clients.test.ts, whose clients shrink SO_RCVBUF to
 * 4 KiB), never reads, and three more such messages follow. What to check: every one of the 192 is dropped
 * (`meshsig_websocket_dropped_total`) and the node's peak RSS stays under 256 MB (178-197 MB alone). Before the fix the
 * kernel took ~4 MB of each socket unseen by `ws.bufferedAmount`, no client was dropped and the peak was 366 MB.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildCli, type BuiltCli } from '../cli/build-cli.js'
import { tempDir } from '../helpers/mesh.js'
import { freePort, getJson, postJson, procMemory, startProcess, type NodeProcess } from '../helpers/node-process.js'
import { waitFor } from '../helpers/wait-for.js'

const CLIENTS = 192 // the anonymous slots: stream.maxClients 256 less provenPercent 25
const EVENTS = 3
const BODY = '\u0001'.repeat(170_000) // ~1,020,000 bytes of request JSON: under the 1 MiB body limit
// the attack took the node to 366 MB and more; what the node holds for it is now bounded, and the rest is the
// process's own (issue 13's 200 MB after load is the benchmark's to measure, on a quiet machine: this test
// runs next to others, and its peak was 178-197 MB alone)
const RSS_BOUND = 256 * 1024 * 1024

let cli: BuiltCli
let home: { dir: string; cleanup: () => void }
let proc: NodeProcess
const sockets: Socket[] = []

function metric(text: string, name: string): number {
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? 'NaN')
}

/** A stream client that completes its upgrade (bearer: an agent credential) and never reads again. */
function stalledClient(port: number, bearer: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1')
    s.on('error', () => undefined)
    s.write(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Authorization: Bearer ${bearer}\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
        `Sec-WebSocket-Version: 13\r\n\r\n`,
    )
    s.once('data', (d: Buffer) => {
      if (!d.toString('latin1').startsWith('HTTP/1.1 101')) return reject(new Error('upgrade refused'))
      s.pause()
      resolve(s)
    })
  })
}

beforeAll(async () => {
  cli = buildCli()
  home = tempDir()
  proc = startProcess(cli, home.dir, await freePort()) // default limits, default rate limit
  await waitFor(() => getJson(`${proc.url}/health`), { timeout: 60_000, interval: 100 })
}, 120_000)

afterAll(async () => {
  for (const s of sockets) s.destroy()
  proc?.child.kill('SIGTERM')
  await proc?.exited()
  cli?.cleanup()
  home?.cleanup()
})

describe('anonymous stream clients that never read', () => {
  it('are dropped once behind and leave the node within its memory budget', async () => {
    const port = Number(new URL(proc.url).port)
    const agents: { did: string; credential: string }[] = []
    for (let i = 0; i < 4; i++) {
      const r = await postJson<{ identity: { did: string; credential: string } }>(`${proc.url}/agents/register`, {
        name: `h3-${i}`,
      }) // no token
      expect(r.status).toBe(201)
      agents.push(r.body.identity)
    }
    const send = async (i: number): Promise<void> => {
      const a = agents[i % agents.length]!
      const r = await postJson(
        `${proc.url}/messages/send`,
        { fromDid: a.did, toDid: null, message: BODY },
        a.credential,
      )
      expect(r.status).toBe(200)
    }
    await send(0)
    // each credential has a bucket of its own (60 a minute): 48 upgrades each
    for (let i = 0; i < CLIENTS; i++) sockets.push(await stalledClient(port, agents[i % agents.length]!.credential))
    for (let i = 1; i <= EVENTS; i++) await send(i)
    const token = readFileSync(`${home.dir}/api-token`, 'utf8').trim()
    const metrics = await (await fetch(`${proc.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text()
    const rss = procMemory(proc.child.pid, 'VmRSS')
    const peak = procMemory(proc.child.pid, 'VmHWM')
    console.log(
      `clients that never read: RSS ${(rss / 2 ** 20).toFixed(0)} MB, peak ${(peak / 2 ** 20).toFixed(0)} MB, metrics:`,
      metric(metrics, 'meshsig_websocket_clients'),
      'clients,',
      metric(metrics, 'meshsig_websocket_dropped_total'),
      'dropped',
    )
    // each client has read nothing of its snapshot and first event: past the 1 MiB the docs allow
    expect.soft(metric(metrics, 'meshsig_websocket_dropped_total')).toBe(CLIENTS)
    expect.soft(peak).toBeLessThanOrEqual(RSS_BOUND)
  }, 180_000)
})
