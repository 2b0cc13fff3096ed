/**
 * scripts/install.sh (the seed's OpenClaw install flow) against a fake
 * OpenClaw tree in a temp folder and a real node (`startApi`), run with real
 * bash, curl and jq. Agent names carry quotes, $(…), backticks, spaces,
 * semicolons and newlines, each planting a command that would create a
 * marker file: none may ever appear. The script registers every agent once
 * (a second run changes nothing), connects every two by handshake, wraps each
 * invoke.sh so that it sends a signed message the node stores, and
 * `--uninstall` restores every original byte for byte.
 */
import { execFile } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHash } from 'node:crypto'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type ApiFixture } from '../api/api-fixture.js'
import { CREDENTIAL_ID_HEADER, TOKEN_CHALLENGE_HEADER, TOKEN_PROOF_HEADER } from '../../api/token-proof.js'

const SCRIPT = fileURLToPath(new URL('../../scripts/install.sh', import.meta.url))

/** Agent folder names; each hostile one would create a `pwned-*` file in the working folder if run as code. */
const NAMES = [
  'alpha',
  'beta agent',
  `it's "quoted"`,
  '$(touch pwned-subst)',
  '`touch pwned-tick`',
  'x; touch pwned-semi',
  "q' ; touch pwned-quote ; '",
  'line1\ntouch pwned-newline\n',
  '${IFS}$(touch${IFS}pwned-ifs)',
] as const

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

function run(file: string, args: readonly string[], env: Record<string, string>, cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, [...args], { env, cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1
      resolve({ code, stdout, stderr })
    })
  })
}

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex')

/** Every file below `dir`: relative path → sha256 and mode. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (d: string, rel: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      const r = rel === '' ? e.name : `${rel}/${e.name}`
      if (e.isDirectory()) {
        out.set(r + '/', (statSync(p).mode & 0o7777).toString(8))
        walk(p, r)
      } else out.set(r, `${sha256(p)} ${(statSync(p).mode & 0o7777).toString(8)}`)
    }
  }
  walk(dir, '')
  return out
}

/** Every entry below `dir` whose name starts with `pwned-`. */
function markers(dir: string): string[] {
  const found: string[] = []
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.name.startsWith('pwned-')) found.push(join(e.parentPath, e.name))
  }
  return found
}

describe('scripts/install.sh: OpenClaw agents on meshsig', { timeout: 120_000 }, () => {
  let fx: ApiFixture
  let root: string
  let base: string
  let home: string
  let work: string
  let log: string
  let env: Record<string, string>
  const originals = new Map<string, string>()
  let before: Map<string, string>

  beforeAll(async () => {
    fx = await startApi()
    root = mkdtempSync(join(tmpdir(), 'meshsig-install-'))
    base = join(root, 'openclaw', 'agents')
    home = join(root, 'meshsig-home')
    work = join(root, 'work')
    log = join(root, 'invoke.log')
    for (const d of [base, work]) mkdirSync(d, { recursive: true })
    mkdirSync(home, { mode: 0o700 })
    writeFileSync(join(home, 'api-token'), fx.token + '\n', { mode: 0o600 })
    NAMES.forEach((name, i) => {
      const dir = join(base, name)
      mkdirSync(dir)
      // each original differs, is executable, and logs its arguments NUL-separated (outside the tree)
      const text = `#!/usr/bin/env bash\n# original invoke.sh #${i}\nprintf '%s\\0' "orig-${i}" "$@" >>"$INVOKE_LOG"\n`
      writeFileSync(join(dir, 'invoke.sh'), text, { mode: 0o750 })
      chmodSync(join(dir, 'invoke.sh'), 0o750)
      originals.set(name, sha256(join(dir, 'invoke.sh')))
    })
    mkdirSync(join(base, 'not-an-agent')) // no invoke.sh: not discovered
    writeFileSync(join(base, 'not-an-agent', 'README'), 'x')
    env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: join(root, 'user-home'),
      MESHSIG_HOME: home,
      MESHSIG_SERVER: fx.url,
      OPENCLAW_AGENTS_DIR: base,
      INVOKE_LOG: log,
    }
    before = snapshot(base)
  })

  afterAll(async () => {
    await fx?.stop()
    if (root) rmSync(root, { recursive: true, force: true })
  })

  const agents = async (): Promise<{ did: string; name: string; status: string }[]> => {
    const res = await fx.call('GET', '/agents?origin=local&limit=1000')
    expect(res.status).toBe(200)
    return res.body.agents
  }
  const connections = async (): Promise<{ fromDid: string; toDid: string }[]> => {
    const res = await fx.call('GET', '/connections?limit=1000')
    expect(res.status).toBe(200)
    return res.body.connections
  }

  it('registers every agent once, stores credentials privately and never prints them', async () => {
    const r = await run('bash', [SCRIPT], env, work)
    expect(r.stderr + r.stdout, r.stderr).not.toMatch(/msag_|privateKey/)
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({ installed: true, agents: NAMES.length })
    const list = await agents()
    expect(list.map((a) => a.name).sort()).toEqual([...NAMES].sort())
    const state = JSON.parse(readFileSync(join(home, 'openclaw', 'agents.json'), 'utf8'))
    expect(state.agents).toHaveLength(NAMES.length)
    const credDir = join(home, 'openclaw', 'credentials')
    expect(statSync(credDir).mode & 0o777).toBe(0o700)
    expect(statSync(join(home, 'openclaw')).mode & 0o777).toBe(0o700)
    for (const a of state.agents as { did: string; credentialFile: string }[]) {
      expect(statSync(a.credentialFile).mode & 0o777).toBe(0o600)
      expect(readFileSync(a.credentialFile, 'utf8')).toMatch(/^msag_[A-Za-z0-9_-]{43}$/)
    }
    expect(markers(root)).toEqual([])
  })

  it('connects every two agents by a verified handshake', async () => {
    const list = await agents()
    const conns = await connections()
    const pair = (a: string, b: string): string => [a, b].sort().join(' ')
    const have = new Set(conns.map((c) => pair(c.fromDid, c.toDid)))
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) expect(have.has(pair(list[i]!.did, list[j]!.did))).toBe(true)
    }
    expect(conns).toHaveLength((NAMES.length * (NAMES.length - 1)) / 2)
  })

  it('wraps each invoke.sh, keeping the original byte for byte', () => {
    for (const name of NAMES) {
      const dir = join(base, name)
      expect(sha256(join(dir, 'invoke.sh.meshsig-orig'))).toBe(originals.get(name))
      expect(statSync(join(dir, 'invoke.sh.meshsig-orig')).mode & 0o777).toBe(0o750)
      expect(readFileSync(join(dir, 'invoke.sh'), 'utf8')).toContain('meshsig signed invoke.sh')
    }
  })

  it('a second run changes nothing: no new registration, handshake or file', async () => {
    const agentsBefore = await agents()
    const connsBefore = await connections()
    const tree = snapshot(base)
    const state = snapshot(home)
    const r = await run('bash', [SCRIPT], env, work)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toBe('')
    expect(await agents()).toEqual(agentsBefore)
    expect(await connections()).toHaveLength(connsBefore.length)
    expect(snapshot(base)).toEqual(tree)
    expect(snapshot(home)).toEqual(state)
    expect(markers(root)).toEqual([])
  })

  it('the wrapped invoke.sh sends a signed message the node stores, then runs the original', async () => {
    const list = await agents()
    const didOf = (n: string): string => list.find((a) => a.name === n)!.did
    const from = NAMES[3] // '$(touch pwned-subst)'
    const to = NAMES[7] // a name with newlines
    const args = ['hello $(touch pwned-arg) `touch pwned-arg2`', "it's; done"]
    const r = await run(join(base, from, 'invoke.sh'), [to, ...args], env, work)
    expect(r.code, r.stderr).toBe(0)
    const res = await fx.call('GET', `/messages?did=${encodeURIComponent(didOf(from))}&limit=10`)
    const sent = (res.body.messages as { from: string; to: string; message: string; verified: boolean }[]).filter(
      (m) => m.from === didOf(from) && m.to === didOf(to),
    )
    expect(sent).toHaveLength(1)
    expect(sent[0]!.verified).toBe(true)
    expect(JSON.parse(sent[0]!.message)).toEqual({ tool: 'openclaw/invoke', target: to, args })
    // the original ran with exactly the same arguments
    expect(readFileSync(log, 'utf8').split('\0').slice(0, -1)).toEqual(['orig-3', to, ...args])
    expect(markers(root)).toEqual([])
  })

  it("the wrapper sends the agent's credential only to a node that proves it holds it", async () => {
    // another local user on the address the wrapper is pointed at: one that answers no proof, one that
    // relays the challenge to the real node (a proof for the node's port, not its own)
    const seen: Array<string | undefined> = []
    const servers = await Promise.all(
      [false, true].map(async (relay) => {
        const server = createServer((req, res) => {
          void (async () => {
            if (req.url === '/health') {
              const challenge = String(req.headers[TOKEN_CHALLENGE_HEADER] ?? '')
              const id = String(req.headers[CREDENTIAL_ID_HEADER] ?? '')
              if (relay) {
                const headers = { [TOKEN_CHALLENGE_HEADER]: challenge, [CREDENTIAL_ID_HEADER]: id }
                const proof = (await fetch(`${fx.url}/health`, { headers })).headers.get(TOKEN_PROOF_HEADER)
                expect(proof).not.toBeNull() // the real node did prove it, for its own port
                res.setHeader(TOKEN_PROOF_HEADER, proof!)
              }
              return res.end('{"status":"ok"}')
            }
            seen.push(req.headers.authorization)
            res.end('{}')
          })()
        })
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
        return server
      }),
    )
    try {
      const logged = readFileSync(log, 'utf8')
      for (const server of servers) {
        const at = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
        const r = await run(join(base, 'alpha', 'invoke.sh'), ['beta agent', 'x'], { ...env, MESHSIG_SERVER: at }, work)
        expect(r.code).toBe(3)
        expect(r.stderr).toMatch(/did not prove it holds this agent's credential/)
      }
      expect(seen).toEqual([])
      expect(readFileSync(log, 'utf8')).toBe(logged) // nothing delivered, the original not run
    } finally {
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
    }
  })

  it('the wrapper speaks to the node directly under an http_proxy', async () => {
    const caught: string[] = []
    const proxy = createServer((req, res) => {
      caught.push(`${req.method} ${req.url}`)
      res.writeHead(502).end()
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const at = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
    try {
      const proxied = { ...env, http_proxy: at, HTTP_PROXY: at, no_proxy: '', NO_PROXY: '' }
      const r = await run(join(base, 'alpha', 'invoke.sh'), ['beta agent', 'via proxy env'], proxied, work)
      expect(r.code, r.stderr).toBe(0)
      expect(caught).toEqual([])
      expect(readFileSync(log, 'utf8').split('\0').slice(-4, -1)).toEqual(['orig-0', 'beta agent', 'via proxy env'])
    } finally {
      await new Promise((resolve) => proxy.close(resolve))
    }
  })

  it('a second run replaces the wrapper of an earlier install, and only a wrapper', async () => {
    const wrapped = join(base, 'alpha', 'invoke.sh')
    const current = readFileSync(wrapped, 'utf8')
    const older = current.replace(/^# The agent's credential is sent only.*\n/m, '')
    expect(older).not.toBe(current)
    writeFileSync(wrapped, older)
    const edited = join(base, 'beta agent', 'invoke.sh')
    writeFileSync(edited, '#!/usr/bin/env bash\necho edited by hand\n')
    const r = await run('bash', [SCRIPT], env, work)
    expect(r.code, r.stderr).toBe(0)
    expect(readFileSync(wrapped, 'utf8')).toBe(current)
    expect(readFileSync(edited, 'utf8')).toBe('#!/usr/bin/env bash\necho edited by hand\n')
    writeFileSync(edited, current)
  })

  it('the wrapper refuses an unknown target and then does not run the original', async () => {
    const logged = readFileSync(log, 'utf8')
    const r = await run(join(base, 'alpha', 'invoke.sh'), ['nobody', 'x'], env, work)
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/not an agent installed on meshsig/)
    expect(readFileSync(log, 'utf8')).toBe(logged)
  })

  it('--uninstall restores every original invoke.sh byte for byte and removes its files', async () => {
    const r = await run('bash', [SCRIPT, '--uninstall'], env, work)
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({ uninstalled: true, restored: NAMES.length })
    for (const name of NAMES) {
      expect(sha256(join(base, name, 'invoke.sh'))).toBe(originals.get(name))
      expect(existsSync(join(base, name, 'invoke.sh.meshsig-orig'))).toBe(false)
      expect(existsSync(join(base, name, 'invoke.sh.meshsig.json'))).toBe(false)
    }
    expect(snapshot(base)).toEqual(before)
    expect(markers(root)).toEqual([])
    // and installing again reuses the identities
    const count = (await agents()).length
    const again = await run('bash', [SCRIPT], env, work)
    expect(again.code, again.stderr).toBe(0)
    expect((await agents()).length).toBe(count)
  })
})
