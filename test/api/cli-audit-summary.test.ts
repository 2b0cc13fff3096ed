/**
 * `meshsig audit` (the summary) and `meshsig_audit` read the summary from the
 * node's streamed NDJSON export: no JSON export is built whole on the node for
 * it. Above `limits.jsonExport.entries` a JSON export is built at most once
 * per `intervalMs`, so on a busy node a second `meshsig audit` within that
 * time was refused (429), and each one held the whole log in both processes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../cli/app.js'
import { tempDir } from '../helpers/mesh.js'
import { startApi, type ApiFixture } from './api-fixture.js'

describe('meshsig audit on a log above the JSON export bound', () => {
  let fx: ApiFixture
  let home: { dir: string; cleanup: () => void }
  const run = async (args: string[]) => {
    const x = { out: '', err: '' }
    const io = {
      stdout: (t: string) => void (x.out += t),
      stderr: (t: string) => void (x.err += t),
      readStdin: async () => new Uint8Array(),
      env: { MESHSIG_HOME: home.dir },
      now: () => Date.now(),
    }
    const code = await runCli(['node', 'meshsig', ...args, '--server', fx.url], io)
    return { code, ...x }
  }

  beforeAll(async () => {
    const limits = { jsonExport: { entries: 0, intervalMs: 3_600_000 }, onDemandCheckpointMs: 0 }
    fx = await startApi({}, {}, { init: { limits, minCheckpointIntervalMs: 0 } })
    home = tempDir()
    for (const name of ['one', 'two', 'three']) await fx.call('POST', '/agents/register', { name })
    expect((await fx.call('POST', '/audit/checkpoint')).status).toBe(201)
  })
  afterAll(async () => {
    await fx.stop()
    home.cleanup()
  })

  it('prints the summary every time, equal to the full export’s, which the bound allows once an hour', async () => {
    const full = await run(['audit', '--json'])
    expect(full.code, full.err).toBe(0)
    const report = JSON.parse(full.out) as { summary: { totalAgents: number; auditEntries: number } }
    expect(report.summary.totalAgents).toBe(3)
    const again = await run(['audit', '--json'])
    expect(JSON.parse(again.out)).toMatchObject({ code: 'RATE_LIMITED' }) // the bound holds
    for (let i = 0; i < 3; i++) {
      const summary = await run(['audit'])
      expect(summary.code, summary.err).toBe(0)
      expect(summary.out).toContain('3 (3 active, 0 revoked)')
      expect(summary.out).toContain(`${report.summary.auditEntries} (checkpoint root`)
    }
  })
})
