/**
 * Review 115 F2: another local user listens on the node's port (the node is
 * down, or busy) and closes every connection as it comes. Every command that
 * proves the node first (a token at hand) ended with exit 13 and printed
 * nothing: the proof's fetch never settles on such a connection (Node 20's
 * undici), and its only timer (`AbortSignal.timeout`) did not keep the
 * process alive. SPEC §8: exit codes 0–3 and a clear error.
 */
import { spawn } from 'node:child_process'
import { createServer, type Server } from 'node:net'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createIdentity, ensureApiToken } from '../../node/identity/index.js'
import { tempDir } from '../helpers/mesh.js'
import { buildCli, type BuiltCli } from './build-cli.js'

const root = tempDir('meshsig-reset-listener-')
const home = join(root.dir, 'home')
let cli: BuiltCli
let server: Server
let url = ''
let connections = 0

function meshsig(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli.main, ...args, '--server', url], {
      env: { PATH: process.env.PATH ?? '', MESHSIG_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

beforeAll(async () => {
  cli = buildCli()
  createIdentity(home)
  ensureApiToken(home)
  server = createServer((socket) => {
    connections++
    socket.destroy()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
  cli?.cleanup()
  root.cleanup()
})

describe('a listener that closes every connection on the node port', () => {
  it.each(['stats', 'agents'])(
    'meshsig %s --json ends with exit 3 and the code, nothing else sent',
    async (cmd) => {
      const before = connections
      const r = await meshsig([cmd, '--json'])
      expect(r.code, r.stderr).toBe(3)
      const answer = JSON.parse(r.stdout) as { code: string; error: string }
      expect(['TIMEOUT', 'UNREACHABLE']).toContain(answer.code)
      expect(answer.error).toContain(url)
      // only the proof's request reached the listener: the token went nowhere
      expect(connections - before).toBe(1)
    },
    60_000,
  )
})
