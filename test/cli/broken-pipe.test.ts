// `meshsig audit --ndjson | head` (review 105 L4): a reader that stops reading closes the CLI's stdout; the CLI
// ends quietly (no unhandled EPIPE, no stack trace) instead of crashing with Node's trace on stderr.
import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postJson } from '../helpers/node-process.js'
import { startCliNode, type CliNode } from './cli-node.js'

let n: CliNode

beforeAll(async () => {
  n = await startCliNode('meshsig-broken-pipe-')
}, 240_000)

afterAll(() => n?.stop())

describe('meshsig audit --ndjson into a reader that stops (| head)', () => {
  it('ends without an unhandled error or a stack trace', async () => {
    for (let i = 0; i < 40; i++) await postJson(`${n.node.url}/agents/register`, { name: `filler-${i}` })
    const result = await new Promise<{ code: number | null; stderr: string; read: number }>((resolve) => {
      const child = spawn(process.execPath, [n.cli.main, 'audit', '--ndjson'], {
        env: { ...process.env, MESHSIG_HOME: n.home, MESHSIG_SERVER: n.node.url },
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
