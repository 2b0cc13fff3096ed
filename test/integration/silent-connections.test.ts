/**
 * Review 115, F1: another local user holds silent TCP connections to the API
 * port. A node that never closes a connection that sends nothing, and caps
 * none, spends its file descriptors on them; libuv then accepts and at once
 * closes every new connection (EMFILE), the operator's with the token
 * included, for as long as the attacker holds them. The node here runs with
 * `ulimit -n 512` so that 600 sockets are enough; the attacker holds them for
 * 60 s and never reconnects. Fixed (decision 0083): a connection that sends no
 * complete request head within `SILENT_CONNECTION_MS` is closed, and the
 * listeners together hold at most `connectionBudget()` connections.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePort } from '../helpers/node-process.js'
import { spawnAsOther } from '../helpers/other-user.js'

const MAIN = resolve(__dirname, '../../dist/main.js')
const HELD = 600

let dir: string
let node: ChildProcess
let port: number
let token: string

/** The operator's `GET /stats` with the token, on a fresh connection: its status, 0 when refused or reset. */
function operatorStatus(): Promise<number> {
  return new Promise((done) => {
    const headers = { authorization: `Bearer ${token}` }
    const req = request({ host: '127.0.0.1', port, path: '/stats', agent: false, headers, timeout: 3000 }, (res) => {
      res.resume()
      res.on('end', () => done(res.statusCode ?? 0))
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => done(0))
    req.end()
  })
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** A script that opens `HELD` connections to the API port, sends nothing, and holds them 60 s. */
function holderScript(): string {
  const file = join(dir, 'hold.mjs')
  writeFileSync(
    file,
    `import net from 'node:net'
let open = 0
for (let i = 0; i < ${HELD}; i++)
  await new Promise((r) => { const s = net.connect(${port}, '127.0.0.1', () => { open++; r() }); s.on('error', r) })
console.log('open ' + open)
await new Promise((r) => setTimeout(r, 60000))
`,
  )
  chmodSync(file, 0o644)
  return file
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshsig-silent-'))
  chmodSync(dir, 0o755)
  const home = join(dir, 'home')
  spawnSync(process.execPath, [MAIN, 'init', '--json'], { env: { ...process.env, MESHSIG_HOME: home } })
  token = readFileSync(join(home, 'api-token'), 'utf8').trim()
  port = await freePort()
  const start = `ulimit -n 512; exec "${process.execPath}" "${MAIN}" start --port ${port} --p2p-port 0`
  node = spawn('sh', ['-c', start], { env: { ...process.env, MESHSIG_HOME: home }, stdio: 'ignore' })
  for (let i = 0; i < 300 && (await operatorStatus()) !== 200; i++) await sleep(200)
}, 240_000)

afterAll(() => {
  node?.kill('SIGTERM')
  rmSync(dir, { recursive: true, force: true })
})

describe('silent connections of another local user (review 115 F1)', () => {
  it('do not lock the operator out of the API while they are held', async () => {
    expect(await operatorStatus()).toBe(200)
    const attacker = spawnAsOther(process.execPath, [holderScript()], {
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    })
    let out = ''
    attacker.stdout?.on('data', (d: Buffer) => (out += d.toString()))
    try {
      for (let i = 0; i < 600 && !out.includes('open'); i++) await sleep(100)
      expect(out).toMatch(/open [1-9]/)
      // The attacker holds its sockets for 60 s; poll the operator's request for 50 s of them.
      const statuses: number[] = []
      for (let i = 0; i < 25 && statuses.at(-1) !== 200; i++) {
        if (i > 0) await sleep(2000)
        statuses.push(await operatorStatus())
      }
      expect(statuses).toContain(200)
    } finally {
      if (attacker.pid !== undefined) process.kill(-attacker.pid, 'SIGKILL')
    }
  }, 240_000)
})
