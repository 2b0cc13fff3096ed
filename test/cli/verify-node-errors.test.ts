/**
 * `meshsig verify` of a did:msig fails closed: only a server nobody could
 * connect to lets it fall back to the DID's inception key; a node that
 * answers with an error (429, 403, 500) fails the command with that error's
 * code, and one that takes the connection and does not answer in time
 * (TIMEOUT) or breaks it off fails it too: none is reported valid (a rotated
 * or revoked DID would otherwise pass; attack review 61 for the slow node).
 */
import { spawn } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { VERIFY_NODE_TIMEOUT_MS } from '../../cli/commands/verify.js'
import { createIdentity } from '../../node/identity/index.js'
import { tempDir } from '../helpers/mesh.js'
import { freePort } from '../helpers/node-process.js'
import { buildCli, type BuiltCli } from './build-cli.js'

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

let cli: BuiltCli
let server: Server
let base = ''
const keyRequests: string[] = []
const root = tempDir('meshsig-verify-errors-')
const home = join(root.dir, 'home')

function meshsig(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli.main, ...args], {
      env: { PATH: process.env.PATH ?? '', MESHSIG_HOME: home },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end('')
  })
}

/** A fake node: `/<status>/keys/<did>` answers that status with a meshsig error body. */
const ERRORS: Record<number, string> = { 429: 'RATE_LIMITED', 403: 'FORBIDDEN', 500: 'INTERNAL' }

beforeAll(async () => {
  cli = buildCli()
  createIdentity(home)
  server = createServer((req, res) => {
    const [, status, what] = (req.url ?? '').split('/')
    if (what === 'keys') keyRequests.push(req.url ?? '')
    if (status === 'hang') return // the connection is taken; no answer comes
    if (status === 'reset') return req.socket.destroy()
    const code = Number(status)
    res.writeHead(code, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ error: `fake node says ${code}`, code: ERRORS[code] ?? 'INTERNAL' }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server?.closeAllConnections()
  await new Promise<void>((resolve) => server?.close(() => resolve()))
  cli?.cleanup()
  root.cleanup()
})

describe('meshsig verify of a did:msig when the node answers with an error', () => {
  let did = ''
  let signature = ''

  beforeAll(async () => {
    const signed = await meshsig(['sign', 'hello', '--json'])
    expect(signed.code, signed.stderr).toBe(0)
    const out = JSON.parse(signed.stdout) as { signature: string; did: string }
    did = out.did
    signature = out.signature
    expect(did).toMatch(/^did:msig:/)
  })

  for (const [status, code] of [
    [429, 'RATE_LIMITED'],
    [403, 'FORBIDDEN'],
    [500, 'INTERNAL'],
  ] as const) {
    it(`HTTP ${status}: not VALID, exits non-zero with ${code}, no fallback to the inception key`, async () => {
      const before = keyRequests.length
      const human = await meshsig(['verify', 'hello', signature, did, '--server', `${base}/${status}`])
      expect(keyRequests.length).toBeGreaterThan(before)
      expect(human.code).not.toBe(0)
      expect(human.stdout + human.stderr).not.toMatch(/VALID/)
      expect(human.stdout + human.stderr).not.toMatch(/fell back offline/)
      const json = await meshsig(['verify', 'hello', signature, did, '--server', `${base}/${status}`, '--json'])
      expect(json.code).not.toBe(0)
      const body = JSON.parse(json.stdout) as Record<string, unknown>
      expect(body.valid).not.toBe(true)
      expect(body.code).toBe(code)
    })
  }

  it(`a node that takes the connection and does not answer within ${VERIFY_NODE_TIMEOUT_MS} ms: TIMEOUT, exit 3, no fallback`, async () => {
    const before = keyRequests.length
    const r = await meshsig(['verify', 'hello', signature, did, '--server', `${base}/hang`, '--json'])
    expect(keyRequests.length).toBeGreaterThan(before)
    expect(r.code).toBe(3)
    const body = JSON.parse(r.stdout) as Record<string, unknown>
    expect(body).toMatchObject({ code: 'TIMEOUT' })
    expect(body.valid).not.toBe(true)
    expect(String(body.error)).toContain('not verified')
    expect(r.stdout).not.toMatch(/fell back offline/)
  }, 30_000)

  it('a server that breaks the connection off: UNREACHABLE, exit 3, no fallback', async () => {
    const r = await meshsig(['verify', 'hello', signature, did, '--server', `${base}/reset`, '--json'])
    expect(r.code).toBe(3)
    const body = JSON.parse(r.stdout) as Record<string, unknown>
    expect(body).toMatchObject({ code: 'UNREACHABLE' })
    expect(body.valid).not.toBe(true)
    expect(r.stdout).not.toMatch(/fell back offline/)
  })

  it('nothing listens (connection refused): falls back to the inception key and says so', async () => {
    const down = await meshsig(['verify', 'hello', signature, did, '--server', `http://127.0.0.1:${await freePort()}`])
    expect(down.code).toBe(0)
    expect(down.stdout).toMatch(/SIGNATURE VALID/)
    expect(down.stdout).toMatch(/fell back offline/)
  })

  it('no node answers: falls back to the inception key and says so (unchanged)', async () => {
    const down = await meshsig(['verify', 'hello', signature, did, '--server', 'http://127.0.0.1:1'])
    expect(down.code).toBe(0)
    expect(down.stdout).toMatch(/SIGNATURE VALID/)
    expect(down.stdout).toMatch(/fell back offline/)
  })

  it('--offline never asks the node', async () => {
    const before = keyRequests.length
    const r = await meshsig(['verify', 'hello', signature, did, '--server', `${base}/500`, '--offline', '--json'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: true, keySource: 'did:msig inception key (offline)' })
    expect(keyRequests.length).toBe(before)
  })
})
