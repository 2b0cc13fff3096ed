/**
 * Review 105 L1: `meshsig start --peer`. A mistyped --peer was accepted at
 * start (the node ran and only logged "background failure"), and the seed's
 * `--peer ws://server1:4888` while server1 is down was fetched (/health) and
 * warned about every 3 s for as long as the node ran, while a multiaddr peer
 * backs off and is warned about once per outage. Now bad input is refused
 * before anything listens (exit 2, naming it), and an unreachable seed is
 * warned about once per outage (decision 0078; the backoff itself is counted
 * with fake timers in test/unit/services/peer-dialer-backoff.test.ts).
 */
import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildCli, type BuiltCli } from './build-cli.js'
import { tempDir } from '../helpers/mesh.js'
import { freePort, getJson, startProcess, type NodeProcess } from '../helpers/node-process.js'
import { waitFor } from '../helpers/wait-for.js'

let cli: BuiltCli
const cleanups: Array<() => void> = []

beforeAll(() => {
  cli = buildCli()
}, 120_000)

afterAll(() => {
  for (const c of cleanups) c()
  cli?.cleanup()
})

async function exitWithin(proc: NodeProcess, ms: number): Promise<number | null | 'running'> {
  const timer = new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), ms))
  const result = await Promise.race([proc.exited(), timer])
  if (result === 'running') {
    proc.child.kill('SIGKILL')
    await proc.exited()
  }
  return result
}

describe('meshsig start --peer', () => {
  for (const bad of ['garbage', '/ip4/garbage']) {
    it(`refuses --peer ${bad} at start: exit 2, one line naming it and the accepted forms`, async () => {
      const home = tempDir('meshsig-peer-')
      cleanups.push(home.cleanup)
      const proc = startProcess(cli, home.dir, await freePort(), ['--peer', bad])
      const code = await exitWithin(proc, 15_000)
      expect(code, proc.output()).toBe(2)
      expect(proc.output()).toContain(`invalid --peer: "${bad}"`)
      expect(proc.output()).toContain('ws://host:port')
      expect(proc.output()).not.toContain('running')
      expect(proc.output().trim().split('\n')).toHaveLength(1)
    }, 30_000)
  }

  it('warns about an unreachable seed peer once per outage, not every 3 s', async () => {
    let hits = 0
    const seed: Server = createServer((req, res) => {
      hits += 1
      res.writeHead(503, { 'content-type': 'text/plain' }).end('down')
    })
    await new Promise<void>((resolve) => seed.listen(0, '127.0.0.1', resolve))
    const seedPort = (seed.address() as { port: number }).port
    const home = tempDir('meshsig-seed-')
    cleanups.push(home.cleanup)
    const proc = startProcess(cli, home.dir, await freePort(), ['--peer', `ws://127.0.0.1:${seedPort}`])
    try {
      await waitFor(
        async () => {
          try {
            return (await getJson<{ mesh?: string }>(`${proc.url}/health`)).mesh === 'ready'
          } catch {
            return false
          }
        },
        { timeout: 60_000, message: 'the node starts' },
      )
      // a window in which the old code tried (and warned) 5 or 6 times: count what the node did in it
      await new Promise((resolve) => setTimeout(resolve, 15_000))
      const warnings = proc
        .output()
        .split('\n')
        .filter((l) => l.includes('background failure') && l.includes(String(seedPort)))
      const report = `seed /health fetched ${hits} times, ${warnings.length} warnings:\n${warnings.join('\n')}`
      expect(warnings.length, report).toBeLessThanOrEqual(1)
      expect(hits, report).toBeGreaterThan(0) // it did try the seed
    } finally {
      proc.child.kill('SIGTERM')
      await proc.exited()
      await new Promise((resolve) => seed.close(resolve))
    }
  }, 120_000)
})
