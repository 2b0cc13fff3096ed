/**
 * `meshsig revoke --private-key` with a controller key older than the node tries (review 106 L2): the node
 * checks a controller's rev against its current key and its last PRIOR_KEYS_TRIED prior keys only
 * (node/core/acceptance.ts controllerKeysOf). The CLI took every key in `priorKeys`, so a revocation with
 * the node key from before its 9th rotation was signed and sent, and the node charged SIGNATURE_INVALID with
 * an audit entry per try (review 105 L3 again). The CLI now takes the keys the node tries, no more.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildCli, type BuiltCli } from './build-cli.js'
import { tempDir } from '../helpers/mesh.js'
import { freePort, getJson, postJson, startProcess, type NodeProcess } from '../helpers/node-process.js'
import { waitFor } from '../helpers/wait-for.js'
import { loadIdentity, rotateIdentity } from '../../node/identity/index.js'
import { toB64 } from '../../node/core/index.js'
import { PRIOR_KEYS_TRIED } from '../../node/core/acceptance.js'

let cli: BuiltCli
let root: { dir: string; cleanup: () => void }
let home: string
let node: NodeProcess

beforeAll(async () => {
  cli = buildCli()
  root = tempDir('meshsig-revoke-old-controller-key-')
  home = join(root.dir, 'home')
  node = startProcess(cli, home, await freePort())
  await waitFor(
    async () => {
      try {
        return (await getJson<{ mesh?: string }>(`${node.url}/health`)).mesh === 'ready'
      } catch {
        return false
      }
    },
    { timeout: 60_000, message: 'the node starts' },
  )
}, 240_000)

afterAll(async () => {
  if (node !== undefined) {
    node.child.kill('SIGTERM')
    await node.exited()
  }
  cli?.cleanup()
  root?.cleanup()
})

function runCli(args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli.main, ...args], {
      env: { ...process.env, MESHSIG_HOME: home, MESHSIG_SERVER: node.url },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.stdin.end(stdin)
    child.once('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

async function register(name: string): Promise<{ did: string; privateKey: string; credential: string }> {
  const r = await postJson<{ identity: { did: string; privateKey: string; credential: string } }>(
    `${node.url}/agents/register`,
    { name },
  )
  expect(r.status).toBe(201)
  return r.body.identity
}

async function auditEntries(): Promise<number> {
  const token = readFileSync(join(home, 'api-token'), 'utf8').trim()
  const res = await fetch(`${node.url}/stats`, { headers: { authorization: `Bearer ${token}` } })
  return ((await res.json()) as { auditEntries: number }).auditEntries
}

describe('meshsig revoke --private-key - with a controller key older than the node tries', () => {
  it('answers KEY_MISMATCH and writes nothing', async () => {
    const token = readFileSync(join(home, 'api-token'), 'utf8').trim()
    const k0 = loadIdentity(home).keyPair
    for (let i = 0; i <= PRIOR_KEYS_TRIED; i++) {
      const { rotation } = rotateIdentity(home)
      const r = await postJson(`${node.url}/agents/rotate-key`, { did: rotation.did, envelope: rotation }, token)
      expect(r.status, JSON.stringify(r.body)).toBe(200)
      await waitFor(
        async () => {
          try {
            return (await getJson<{ mesh?: string }>(`${node.url}/health`)).mesh === 'ready'
          } catch {
            return false
          }
        },
        { timeout: 60_000, message: 'the node follows its key' },
      )
    }
    const agent = await register('hosted')
    const before = await auditEntries()
    const tries = 3
    const answers: string[] = []
    for (let i = 0; i < tries; i++) {
      const r = await runCli(
        ['revoke', agent.did, '--reason', 'Key leaked', '--private-key', '-', '--json'],
        `${toB64(k0.seed)}\n`,
      )
      answers.push(`exit ${r.code} ${r.stdout.trim()} ${r.stderr.trim()}`)
    }
    const after = await auditEntries()
    const report = `answers:\n${answers.join('\n')}\naudit entries written by ${tries} refused revokes: ${after - before}`
    expect(answers[0], report).toContain('KEY_MISMATCH')
    expect(after - before, report).toBe(0)
  }, 240_000)
})
