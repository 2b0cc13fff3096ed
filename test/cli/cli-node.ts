/**
 * A real `meshsig start` process on a fresh home, with the built CLI to run
 * against it (test-only): the set-up the CLI suites that talk to a running
 * node share (`revoke`, broken pipes).
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'vitest'
import { buildCli, type BuiltCli } from './build-cli.js'
import { tempDir } from '../helpers/mesh.js'
import { freePort, getJson, postJson, startProcess, type NodeProcess } from '../helpers/node-process.js'
import { waitFor } from '../helpers/wait-for.js'

/** What a CLI run printed, and its exit code. */
export interface CliRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** A running node, its home, and the built CLI. */
export interface CliNode {
  readonly cli: BuiltCli
  readonly home: string
  readonly node: NodeProcess
  /** Run the CLI with `args` against the node, `stdin` written to it. */
  run(args: string[], stdin?: string): Promise<CliRun>
  /** Register a custodied agent anonymously; its identity. */
  register(name: string): Promise<{ did: string; privateKey: string; credential: string }>
  /** The node's audit entry count (`/stats`, with the operator token). */
  auditEntries(): Promise<number>
  stop(): Promise<void>
}

/** Build the CLI, start a node on a fresh home, and wait for `"mesh": "ready"`. */
export async function startCliNode(prefix: string): Promise<CliNode> {
  const cli = buildCli()
  const root = tempDir(prefix)
  const home = join(root.dir, 'home')
  const node = startProcess(cli, home, await freePort())
  const ready = async (): Promise<boolean> =>
    (await getJson<{ mesh?: string }>(`${node.url}/health`).catch(() => ({ mesh: 'down' }))).mesh === 'ready'
  await waitFor(ready, { timeout: 60_000, message: 'the node starts' })
  const token = (): string => readFileSync(join(home, 'api-token'), 'utf8').trim()
  return {
    cli,
    home,
    node,
    run: (args, stdin = '') => runCli(cli.main, args, { MESHSIG_HOME: home, MESHSIG_SERVER: node.url }, stdin),
    register: async (name) => {
      const r = await postJson<{ identity: { did: string; privateKey: string; credential: string } }>(
        `${node.url}/agents/register`,
        { name },
      )
      expect(r.status).toBe(201)
      return r.body.identity
    },
    auditEntries: async () => {
      const res = await fetch(`${node.url}/stats`, { headers: { authorization: `Bearer ${token()}` } })
      return ((await res.json()) as { auditEntries: number }).auditEntries
    },
    stop: async () => {
      node.child.kill('SIGTERM')
      await node.exited()
      cli.cleanup()
      root.cleanup()
    },
  }
}

function runCli(main: string, args: string[], env: Record<string, string>, stdin: string): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [main, ...args], {
      env: { ...process.env, ...env },
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
