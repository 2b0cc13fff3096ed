// The bash scripts: deploy-proxy.sh refuses bad input before touching iptables; register-agent.sh and
// unregister-agent.sh drive the REST API with jq-built bodies, whatever the agent name holds.
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type ApiFixture } from '../api/api-fixture.js'
import { REPO_ROOT } from '../cli/build-cli.js'

const run = promisify(execFile)
const scripts = join(REPO_ROOT, 'scripts')

async function script(
  name: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('bash', [join(scripts, name), ...args], {
      env: { ...process.env, ...env },
      timeout: 20_000,
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string }
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

describe('deploy-proxy.sh input checks (before any iptables call)', () => {
  it.each([
    ['0'],
    ['65536'],
    ['3001;id'],
    ['$(id)'],
    ['--proxy-port', 'x', '3001'],
    ['--proxy-source', '1.2.3', '3001'],
  ])('refuses %j with exit 2', async (...args) => {
    const r = await script('deploy-proxy.sh', args)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/must be|usage/)
  })

  it('refuses a proxy port equal to the gateway port, and no arguments', async () => {
    expect((await script('deploy-proxy.sh', ['--proxy-port', '3001', '3001'])).stderr).toMatch(/must differ/)
    expect((await script('deploy-proxy.sh', [])).code).toBe(2)
  })
})

describe('register-agent.sh / unregister-agent.sh', () => {
  let fx: ApiFixture
  let tmp: string
  let env: Record<string, string>

  beforeAll(async () => {
    fx = await startApi()
    tmp = mkdtempSync(join(tmpdir(), 'meshsig-scripts-'))
    env = { MESHSIG_SERVER: fx.url, MESHSIG_HOME: tmp, TMPDIR: tmp }
  })

  afterAll(async () => {
    await fx?.stop()
    rmSync(tmp, { recursive: true, force: true })
  })

  it('registers a custodied agent with a hostile name, prints no private key, leaves no temp file', async () => {
    const name = `x"; $(touch ${join(tmp, 'pwned')}); '\\`
    const r = await script('register-agent.sh', ['--capability', 'analysis', name], env)
    expect(r.stderr).toBe('')
    const out = JSON.parse(r.stdout) as { did: string; name: string }
    expect(out.name).toBe(name)
    expect(r.stdout).not.toMatch(/privateKey/)
    expect(fx.node.agents.record(out.did)?.capabilities).toEqual([{ type: 'analysis' }])
    expect(fx.node.proxySigner(out.did)?.did).toBe(out.did)
    expect(readdirSync(tmp)).toEqual([])
  })

  it('unregisters by name (revocation), and refuses an unknown name', async () => {
    const reg = JSON.parse((await script('register-agent.sh', ['leaving'], env)).stdout) as { did: string }
    const r = await script('unregister-agent.sh', ['--reason', 'decommissioned', 'leaving'], env)
    expect(JSON.parse(r.stdout)).toMatchObject({ revoked: true, did: reg.did, reason: 'decommissioned' })
    expect(fx.node.signerKey(reg.did).revoked).toBe(true)
    const unknown = await script('unregister-agent.sh', ['leaving'], env)
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/no active local agent/)
  })

  it('reports an unreachable node with exit 3', async () => {
    const r = await script('register-agent.sh', ['x'], { ...env, MESHSIG_SERVER: 'http://127.0.0.1:1' })
    expect(r.code).toBe(3)
  })
})
