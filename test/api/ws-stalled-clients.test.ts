/**
 * Stalled WebSocket clients cost a bounded amount of memory (issue 9: 20
 * clients that never read took a node from 293 MB to 1.63 GB). A real
 * `meshsig start` process with `stream.maxBufferedBytes` of 256 KiB holds 60
 * messages of 250 KB (15 MB of history); then twenty clients (a python3
 * process, so that each socket's receive buffer can be made small: otherwise
 * the kernel would soak up tens of megabytes per client) complete the
 * upgrade, are handed their first snapshot page, and never read; 20 more
 * messages follow. Each stalled client is dropped once it falls past the
 * bound (counted in /metrics), a client that reads receives every event, and
 * the process's peak RSS (VmHWM from /proc, reset before the clients come)
 * grows by less than twenty snapshot pages and buffer bounds plus the
 * working set of the sends. Handing every client the whole history instead
 * (a snapshot without a byte budget) costs 15 MB a client.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { buildCli, type BuiltCli } from '../cli/build-cli.js'
import { tempDir } from '../helpers/mesh.js'
import { freePort, getJson, postJson, startProcess, type NodeProcess } from '../helpers/node-process.js'
import { waitFor } from '../helpers/wait-for.js'

const STALLED = 20
const MAX_BUFFERED = 256 * 1024
const HISTORY = 60
const MESSAGES = 20
const BODY = 'x'.repeat(250_000)
/** Bytes of message bodies in one snapshot page (node/limits.ts `snapshot.messageBytes`, the default). */
const PAGE_BYTES = 1024 * 1024
/** Memory the sends need whatever the clients do: request bodies, SQLite pages, V8 garbage not yet collected. */
const WORKING_SET = 48 * 1024 * 1024

let cli: BuiltCli
let home: { dir: string; cleanup: () => void }
let proc: NodeProcess
let stalled: ChildProcess | undefined

/** Open `count` WebSocket upgrades with a 4 KiB receive buffer each, then never read; prints "ready". */
const STALLED_CLIENTS = `
import base64, os, socket, sys, time
port, count = int(sys.argv[1]), int(sys.argv[2])
held = []
for _ in range(count):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET / HTTP/1.1\\r\\nHost: 127.0.0.1:%d\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n"
               "Sec-WebSocket-Key: %s\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n" % (port, key)).encode())
    if not s.recv(12).startswith(b"HTTP/1.1 101"):
        sys.exit("upgrade refused")
    held.append(s)
print("ready", flush=True)
while True:
    time.sleep(3600)
`

/** Start the stalled clients; resolves once every upgrade succeeded. */
function stalledClients(port: number, count: number): Promise<ChildProcess> {
  const child = spawn('python3', ['-c', STALLED_CLIENTS, String(port), String(count)], { stdio: 'pipe' })
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => (d.toString().includes('ready') ? resolve(child) : undefined))
    child.once('exit', (code) => reject(new Error(`stalled clients exited with ${code}`)))
  })
}

/** VmRSS or VmHWM of the node process, in bytes. */
function memory(field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${proc.child.pid}/status`, 'utf8')
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]
  if (kb === undefined) throw new Error(`no ${field} in /proc status`)
  return Number(kb) * 1024
}

function metric(text: string, name: string): number {
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? 'NaN')
}

beforeAll(async () => {
  cli = buildCli()
  home = tempDir()
  const port = await freePort()
  const limits = JSON.stringify({ stream: { maxBufferedBytes: MAX_BUFFERED } })
  proc = startProcess(cli, home.dir, port, [], { MESHSIG_RATE_LIMIT: '0', MESHSIG_LIMITS: limits })
  await waitFor(() => getJson(`${proc.url}/health`), { timeout: 60_000, interval: 100 })
}, 120_000)

afterAll(async () => {
  stalled?.kill('SIGKILL')
  proc?.child.kill('SIGTERM')
  await proc?.exited()
  cli?.cleanup()
  home?.cleanup()
})

describe('twenty WebSocket clients that never read', () => {
  it('are dropped at their bound; a reading client gets every event; RSS stays bounded', async () => {
    const token = readFileSync(join(home.dir, 'api-token'), 'utf8').trim()
    const port = Number(new URL(proc.url).port)
    const reg = async (name: string): Promise<string> =>
      ((await postJson(`${proc.url}/agents/register`, { name }, token)).body as { identity: { did: string } }).identity
        .did
    const [from, to] = [await reg('talker'), await reg('listener')]
    const send = async (): Promise<void> => {
      const r = await postJson(`${proc.url}/messages/send`, { fromDid: from, toDid: to, message: BODY }, token)
      expect(r.status).toBe(200)
    }
    for (let i = 0; i < HISTORY; i++) await send()
    const before = memory('VmRSS')
    writeFileSync(`/proc/${proc.child.pid}/clear_refs`, '5') // VmHWM := VmRSS
    stalled = await stalledClients(port, STALLED)
    const reader = new WebSocket(`ws://127.0.0.1:${port}/`)
    let received = 0
    reader.on('message', (data: Buffer) => {
      if ((JSON.parse(data.toString()) as { type: string }).type === 'message:signed') received += 1
    })
    await new Promise((resolve) => reader.once('open', resolve))
    for (let i = 0; i < MESSAGES; i++) await send()
    await waitFor(() => received === MESSAGES, { timeout: 60_000 })
    const metrics = await (await fetch(`${proc.url}/metrics`)).text()
    expect(metric(metrics, 'meshsig_websocket_dropped_total')).toBe(STALLED)
    expect(metric(metrics, 'meshsig_websocket_clients')).toBe(1)
    const growth = memory('VmHWM') - before
    expect(growth).toBeLessThan(STALLED * (PAGE_BYTES + MAX_BUFFERED) + WORKING_SET)
    reader.close()
  }, 180_000)
})
