/**
 * Review 105 L8: the commonest "port in use" a new user meets is a second
 * `meshsig start` (or `npm start`) while a node already runs on the default
 * ports, from another home. `meshsig start --port P` (no --p2p-port: the
 * mesh takes P+1 and P+2) answered "cannot listen on 127.0.0.1:P+1 (mesh
 * TCP) and P+2 (mesh WebSocket): address in use; choose other ports with
 * --p2p-port" and never named P, which is taken too: following the advice
 * only led to the next error, about --port. Now every port taken is named in
 * one line with the flags that move them (cli/commands/start-early.ts).
 */
import { spawn } from 'node:child_process'
import { createServer, type Server } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildCli, type BuiltCli } from './build-cli.js'
import { portsInUse, type PortUse } from '../../cli/commands/start-early.js'
import { tempDir } from '../helpers/mesh.js'

let cli: BuiltCli
let home: { dir: string; cleanup(): void }
const busy: Server[] = []
let port = 0

function listen(p: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const s = createServer()
    s.once('error', () => resolve(undefined))
    s.listen(p, '127.0.0.1', () => resolve(s))
  })
}

beforeAll(async () => {
  cli = buildCli()
  home = tempDir('meshsig-r105-ports-')
  // three consecutive ports held, as a running node holds them (API, mesh TCP, mesh WebSocket)
  for (let tries = 0; tries < 50 && busy.length < 3; tries++) {
    busy.splice(0).forEach((s) => s.close())
    port = 20_000 + Math.floor(Math.random() * 20_000)
    for (const p of [port, port + 1, port + 2]) {
      const s = await listen(p)
      if (s === undefined) break
      busy.push(s)
    }
  }
  expect(busy.length).toBe(3)
}, 120_000)

afterAll(() => {
  busy.forEach((s) => s.close())
  cli?.cleanup()
  home?.cleanup()
})

describe('meshsig start --port P while another node holds P, P+1, P+2', () => {
  it('names P, P+1 and P+2 in one line with --port and --p2p-port, exit 2', async () => {
    const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [cli.main, 'start', '--port', String(port)], {
        env: { ...process.env, MESHSIG_HOME: home.dir },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let out = ''
      child.stdout.on('data', (d: Buffer) => (out += d.toString()))
      child.stderr.on('data', (d: Buffer) => (out += d.toString()))
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
      child.once('exit', (code) => {
        clearTimeout(timer)
        resolve({ code, out })
      })
    })
    expect(result.code, result.out).toBe(2)
    expect(result.out, result.out).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}(?!\\d)`))
    expect(result.out).toContain(`${port} (API), ${port + 1} (mesh TCP) and ${port + 2} (mesh WebSocket)`)
    expect(result.out).toContain('--port')
    expect(result.out).toContain('--p2p-port')
    expect(result.out.trim().split('\n')).toHaveLength(1)
  }, 60_000)
})

describe('the line for ports in use', () => {
  const config = { host: '127.0.0.1', port: 4800, p2pPort: 4801 }
  const api: PortUse = { port: 4800, role: 'API' }
  const tcp: PortUse = { port: 4801, role: 'mesh TCP' }
  const ws: PortUse = { port: 4802, role: 'mesh WebSocket' }

  it('the API port alone: --port', () => {
    expect(portsInUse(config, [api]).message).toBe(
      'cannot listen on 127.0.0.1:4800 (API): address in use; choose another port with --port',
    )
  })

  it('mesh ports that follow --port: --p2p-port, or another --port', () => {
    const message = portsInUse(config, [tcp, ws]).message
    expect(message).toMatch(/^cannot listen on 127\.0\.0\.1:4801 \(mesh TCP\) and 4802 \(mesh WebSocket\): /)
    expect(message).toContain('--p2p-port')
    expect(message).toContain('or another --port')
  })

  it('a mesh port set by --p2p-port: only --p2p-port moves it', () => {
    const message = portsInUse({ ...config, p2pPort: 5000 }, [{ port: 5001, role: 'mesh WebSocket' }]).message
    expect(message).toMatch(/^cannot listen on 127\.0\.0\.1:5001 \(mesh WebSocket\): /)
    expect(message).toContain('--p2p-port')
    expect(message).not.toContain('--port')
  })

  it('the API and mesh ports: all of them and both flags', () => {
    const message = portsInUse(config, [api, tcp, ws]).message
    expect(message).toContain('127.0.0.1:4800 (API), 4801 (mesh TCP) and 4802 (mesh WebSocket)')
    expect(message).toContain('--port (the API) and --p2p-port')
  })
})
