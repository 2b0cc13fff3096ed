/**
 * Review 105 L3 and L7 (decision 0077): `meshsig revoke`.
 *
 * - docs/api.md shows `printf '%s\n' "$SEED" | meshsig revoke did:msig:… --reason "Key leaked" --private-key -`.
 *   With a key the DID rotated away from (the key a user still has after the node rotated a custodied
 *   agent), the CLI signed a `rev` with it and sent it: the node answered SIGNATURE_INVALID and wrote an
 *   audit entry for every try (a forgery charged to the caller), where `meshsig rotate-key` and the API's
 *   `{did, privateKey}` answer KEY_MISMATCH and write nothing. The CLI now checks the key first.
 * - The seed's CLI is `revoke <did> [--reason]`, and the API and `meshsig_revoke` default the reason to
 *   "unspecified"; the CLI alone refused a revocation without --reason (exit 2). It now has the same default.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildCli, type BuiltCli } from '../cli/build-cli.js'
import { tempDir } from '../helpers/mesh.js'
import { freePort, getJson, postJson, startProcess, type NodeProcess } from '../helpers/node-process.js'
import { waitFor } from '../helpers/wait-for.js'

let cli: BuiltCli
let root: { dir: string; cleanup: () => void }
let home: string
let node: NodeProcess

beforeAll(async () => {
  cli = buildCli()
  root = tempDir('meshsig-r105-revoke-')
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

describe('meshsig revoke --private-key - with a key the DID rotated away from', () => {
  it('answers KEY_MISMATCH as rotate-key and the API do, and writes nothing', async () => {
    const agent = await register('stale-key')
    const rot = await postJson(`${node.url}/agents/rotate-key`, { did: agent.did }, agent.credential)
    expect(rot.status).toBe(200)

    // the API's own answer to the same key: KEY_MISMATCH, nothing written
    const before = await auditEntries()
    const api = await postJson<{ code: string }>(`${node.url}/agents/revoke`, {
      did: agent.did,
      reason: 'Key leaked',
      privateKey: agent.privateKey,
    })
    expect(api.body.code).toBe('KEY_MISMATCH')
    expect(await auditEntries()).toBe(before)

    const tries = 3
    const answers: string[] = []
    for (let i = 0; i < tries; i++) {
      const r = await runCli(
        ['revoke', agent.did, '--reason', 'Key leaked', '--private-key', '-', '--json'],
        `${agent.privateKey}\n`,
      )
      expect(r.code).toBe(1)
      answers.push(r.stdout.trim())
    }
    const after = await auditEntries()
    const report = `answers:\n${answers.join('\n')}\naudit entries written by ${tries} refused revokes: ${after - before}`
    expect(JSON.parse(answers[0]!).code, report).toBe('KEY_MISMATCH')
    expect(after - before, report).toBe(0)
  }, 60_000)
})

describe('meshsig revoke without --reason (the seed: revoke <did> [--reason])', () => {
  it('revokes with the reason "unspecified", as the API and meshsig_revoke do', async () => {
    const agent = await register('no-reason')
    const r = await runCli(['revoke', agent.did, '--json'])
    const report = `exit ${r.code}\n${r.stdout}${r.stderr}`
    expect(r.code, report).toBe(0)
    expect(JSON.parse(r.stdout).reason, report).toBe('unspecified')
  }, 30_000)
})
