// `meshsig audit --ndjson | head` (review 105 L4): a reader that stops reading closes the CLI's stdout; the CLI
// ends quietly (no unhandled EPIPE, no stack trace) instead of crashing with Node's trace on stderr.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildCli, type BuiltCli } from './build-cli.js'
import { tempDir } from '../helpers/mesh.js'
import { freePort, getJson, postJson, startProcess, type NodeProcess } from '../helpers/node-process.js'
import { waitFor } from '../helpers/wait-for.js'

let cli: BuiltCli
let root: { dir: string; cleanup: () => void }
let home: string
let node: NodeProcess

beforeAll(async () => {
  cli = buildCli()
  root = tempDir('meshsig-broken-pipe-')
  home = join(root.dir, 'home')
  node = startProcess(cli, home, await freePort())
  const ready = async (): Promise<boolean> =>
    (await getJson<{ mesh?: string }>(`${node.url}/health`).catch(() => ({ mesh: 'down' }))).mesh === 'ready'
  await waitFor(ready, { timeout: 60_000, message: 'the node starts' })
}, 240_000)

afterAll(async () => {
  if (node !== undefined) {
    node.child.kill('SIGTERM')
    await node.exited()
  }
  cli?.cleanup()
  root?.cleanup()
})

describe('meshsig audit --ndjson into a reader that stops (| head)', () => {
  it('ends without an unhandled error or a stack trace', async () => {
    for (let i = 0; i < 40; i++) await postJson(`${node.url}/agents/register`, { name: `filler-${i}` })
    const result = await new Promise<{ code: number | null; stderr: string; read: number }>((resolve) => {
      const child = spawn(process.execPath, [cli.main, 'audit', '--ndjson'], {
        env: { ...process.env, MESHSIG_HOME: home, MESHSIG_SERVER: node.url },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let stderr = ''
      let read = 0
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      child.stdout.once('data', (d: Buffer) => {
        read = d.length
        child.stdout.destroy() // head -c: one chunk read, the pipe closed
      })
      child.once('exit', (code) => resolve({ code, stderr, read }))
    })
    const report = `exit ${result.code}\n${result.stderr}`
    expect(result.read, 'the export had begun').toBeGreaterThan(0)
    expect(result.stderr, report).not.toContain("Unhandled 'error' event")
    expect(result.stderr, report).not.toMatch(/\n\s+at /)
    expect(result.code, report).toBe(0)
  }, 60_000)
})
