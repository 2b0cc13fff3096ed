import { readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../cli/app.js'
import type { CliIo } from '../../cli/context.js'
import { tempDir } from '../helpers/mesh.js'
import { startApi, type ApiFixture } from './api-fixture.js'

function io(env: Record<string, string> = {}): CliIo & { out: string; err: string } {
  const self = {
    out: '',
    err: '',
    stdout: (t: string) => void (self.out += t),
    stderr: (t: string) => void (self.err += t),
    readStdin: async () => new Uint8Array(),
    env,
    now: () => Date.now(),
  }
  return self
}

describe('CLI commands that talk to the node: agents, stats, revoked, audit', () => {
  let fx: ApiFixture
  let home: { dir: string; cleanup: () => void }
  let did: string
  const run = async (args: string[], env: Record<string, string> = {}) => {
    const x = io({ MESHSIG_HOME: home.dir, ...env })
    const code = await runCli(['node', 'meshsig', ...args], x)
    return { code, out: x.out, err: x.err }
  }

  beforeAll(async () => {
    fx = await startApi()
    home = tempDir()
    did = (await fx.call('POST', '/agents/register', { name: 'cli-agent', capabilities: [{ type: 'analysis' }] })).body
      .identity.did
    const gone = (await fx.call('POST', '/agents/register', { name: 'gone' })).body.identity.did
    await fx.call('POST', '/agents/revoke', { did: gone, reason: 'Key leaked' })
  })
  afterAll(async () => {
    await fx.stop()
    home.cleanup()
  })

  it('agents (alias ls) lists agents with trust scores, as text or JSON', async () => {
    const text = await run(['agents', '--server', fx.url])
    expect(text.code).toBe(0)
    expect(text.out).toContain('cli-agent')
    expect(text.out).toContain(did)
    const json = await run(['ls', '--server', fx.url, '--json'])
    expect(json.code).toBe(0)
    expect(JSON.parse(json.out).total).toBe(2)
    const filtered = await run(['agents', '--capability', 'analysis', '--json'], { MESHSIG_SERVER: fx.url })
    expect(JSON.parse(filtered.out).agents.map((a: { did: string }) => a.did)).toEqual([did])
  })

  it('stats (alias status)', async () => {
    const r = await run(['stats', '--server', fx.url, '--json'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.out)).toMatchObject({ agents: 2, revoked: 1, did: fx.node.did })
    const t = await run(['status'], { MESHSIG_SERVER: fx.url })
    expect(t.code).toBe(0)
    expect(t.out).toContain('Agents')
  })

  it('revoked lists revocations', async () => {
    const r = await run(['revoked', '--server', fx.url])
    expect(r.code).toBe(0)
    expect(r.out).toContain('Key leaked')
    expect(JSON.parse((await run(['revoked', '--server', fx.url, '--json'])).out).total).toBe(1)
  })

  it('audit --json prints the whole export; without --json a summary', async () => {
    const r = await run(['audit', '--server', fx.url, '--json'])
    expect(r.code).toBe(0)
    const report = JSON.parse(r.out)
    expect(report.summary.totalAgents).toBe(2)
    expect(report.entries.length).toBeGreaterThan(0)
    expect(report.checkpoint.type).toBe('chk')
    const s = await run(['audit', '--server', fx.url])
    expect(s.out).toContain('Audit report')
  })

  it('a --server that is no URL is bad input (exit 2), not an unreachable node (exit 3)', async () => {
    for (const server of ['not-a-url', 'ftp://127.0.0.1:4888']) {
      const r = await run(['stats', '--server', server])
      expect([r.code, r.err]).toEqual([2, expect.stringMatching(/must be an http\(s\) URL/)])
    }
  })

  it('audit --size N exports a past checkpoint; --out writes the export to a file audit verify accepts', async () => {
    const size = (
      JSON.parse((await run(['audit', '--server', fx.url, '--json'])).out) as { checkpoint: { size: number } }
    ).checkpoint.size
    await fx.call('POST', '/agents/register', { name: 'after the checkpoint' })
    expect((await fx.call('POST', '/audit/checkpoint')).status).toBe(201) // the export follows the latest checkpoint
    const past = await run(['audit', '--server', fx.url, '--json', '--size', String(size)])
    expect(past.code).toBe(0)
    expect((JSON.parse(past.out) as { entries: unknown[] }).entries).toHaveLength(size)
    const now = JSON.parse((await run(['audit', '--server', fx.url, '--json'])).out) as { entries: unknown[] }
    expect(now.entries.length).toBeGreaterThan(size)
    const beyond = await run(['audit', '--server', fx.url, '--size', String(size + 10_000)])
    expect([beyond.code, beyond.err]).toEqual([2, expect.stringMatching(/size must be an integer from 0 to \d+/)])
    const none = await run(['audit', '--server', fx.url, '--size', String(size + 1)]) // no checkpoint of that size
    expect([none.code, none.err]).toEqual([1, expect.stringMatching(/nearest below is \d+/)])
    const file = join(home.dir, 'report.json')
    const written = await run(['audit', '--server', fx.url, '--size', String(size), '--out', file])
    expect(written.code).toBe(0)
    expect(written.out).toContain(`audit export of ${size} entries written to ${file}`)
    const verified = await run(['audit', 'verify', file])
    expect(verified.code, verified.out + verified.err).toBe(0)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    // a symbolic link planted where the export goes is refused, not followed (as for --ndjson)
    const victim = join(home.dir, 'victim.txt')
    writeFileSync(victim, 'keep me')
    symlinkSync(victim, join(home.dir, 'planted.json'))
    const planted = await run(['audit', '--server', fx.url, '--out', join(home.dir, 'planted.json')])
    expect([planted.code, planted.err]).toEqual([2, expect.stringMatching(/symbolic link/)])
    expect(readFileSync(victim, 'utf8')).toBe('keep me')
  })

  it('an agent name with terminal escapes is shown escaped, never acted on; --json keeps it as it is', async () => {
    const evil = 'evil\u001b]0;pwned\u0007\u001b[31mRED\u001b[0m\rFAKE\u202eLINE'
    expect((await fx.call('POST', '/agents/register', { name: evil })).status).toBe(201)
    const text = await run(['agents', '--server', fx.url])
    expect(text.code).toBe(0)
    expect(text.out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/)
    // quoted, JSON-style, on one line (node/core/untrusted-text.ts)
    expect(text.out).toContain('"evil\\u001b]0;pwned\\u0007\\u001b[31mRED\\u001b[0m\\rFAKE\\u202eLINE"')
    const json = await run(['agents', '--server', fx.url, '--json'])
    expect(JSON.parse(json.out).agents.map((a: { name: string }) => a.name)).toContain(evil)
    await fx.call('POST', '/agents/revoke', {
      did: JSON.parse(json.out).agents.find((a: { name: string }) => a.name === evil).did,
      reason: 'test over',
    })
  })

  it('an unreachable node: a clear message and exit 3', async () => {
    for (const cmd of ['agents', 'stats', 'revoked', 'audit']) {
      const r = await run([cmd, '--server', 'http://127.0.0.1:1'])
      expect(r.code).toBe(3)
      expect(r.err).toMatch(/no meshsig node answers at http:\/\/127\.0\.0\.1:1.*meshsig start/)
    }
    const j = await run(['stats', '--json'], { MESHSIG_SERVER: 'http://127.0.0.1:1' })
    expect(j.code).toBe(3)
    expect(JSON.parse(j.out).code).toBe('UNREACHABLE')
  })
})
