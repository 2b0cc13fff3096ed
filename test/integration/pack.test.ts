// The installable package: `npm pack` (which builds on prepack) makes a tarball without test files;
// it installs into an empty folder (dependencies from the npm cache or registry, better-sqlite3
// built there) and its bins, the bundles of dist/bin/ (decision 0031), run from that folder:
// `npx meshsig start` answers /health with the package's version, brings its libp2p node up
// ("mesh": "ready"), registers agents, accepts a signed message, serves the built pages and stops
// on SIGTERM; `npx meshsig-mcp` answers MCP initialize, lists its nine tools and runs init, sign and
// verify over stdio.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, getJson, postJson } from '../helpers/node-process.js'

const run = promisify(execFile)
const ROOT = resolve(import.meta.dirname, '../..')
const SOURCES = [
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'README.md',
  'node',
  'api',
  'cli',
  'ui',
  'scripts',
  'docs',
]
let work = ''
let tarball = ''
let files: string[] = []
const children: ChildProcess[] = []

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'meshsig-pack-'))
  // pack from a copy, so building on prepack never rewrites the dist/ other suites run from
  const src = join(work, 'src')
  mkdirSync(src)
  for (const entry of SOURCES) cpSync(join(ROOT, entry), join(src, entry), { recursive: true })
  rmSync(join(src, 'ui', 'dist'), { recursive: true, force: true })
  symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'))
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], {
    cwd: src,
    maxBuffer: 64 << 20,
  })
  const json = stdout.slice(stdout.search(/^\[$/m)) // prepack's build prints before npm's JSON
  const packed = (JSON.parse(json) as { filename: string; files: { path: string }[] }[])[0]!
  tarball = join(work, packed.filename)
  files = packed.files.map((f) => f.path)
  const app = join(work, 'app')
  mkdirSync(app)
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pack-check', private: true }))
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], {
    cwd: app,
    maxBuffer: 64 << 20,
  })
}, 900_000)

/** Signal npx and what it started (the node itself): npx does not pass signals on. */
function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal)
  } catch {
    // already gone
  }
}

afterAll(() => {
  for (const c of children) stop(c, 'SIGKILL')
  if (work) rmSync(work, { recursive: true, force: true })
})

function spawnIn(args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn('npx', ['--no-install', ...args], {
    cwd: join(work, 'app'),
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true, // its own process group, so that stop() reaches the node behind npx
  })
  children.push(child)
  return child
}

async function waitForHealth(url: string, child: ChildProcess): Promise<Record<string, unknown>> {
  let exited = false
  child.once('exit', () => (exited = true))
  for (let i = 0; i < 300 && !exited; i++) {
    try {
      const res = await fetch(`${url}/health`)
      if (res.ok) return (await res.json()) as Record<string, unknown>
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error('meshsig start did not answer /health')
}

/** Send JSON-RPC lines to a stdio server; resolve with the answer to `id`. */
function rpc(child: ChildProcess, id: number, method: string, params: object): Promise<Record<string, unknown>> {
  return new Promise((done, fail) => {
    let buf = ''
    const onData = (d: Buffer): void => {
      buf += d.toString()
      for (const line of buf.split('\n')) {
        if (!line.trim().startsWith('{')) continue
        const msg = JSON.parse(line) as { id?: number }
        if (msg.id === id) {
          child.stdout!.off('data', onData)
          done(msg as Record<string, unknown>)
        }
      }
    }
    child.stdout!.on('data', onData)
    child.once('exit', (code) => fail(new Error(`meshsig-mcp exited with ${code}`)))
    child.stdin!.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n')
  })
}

describe('npm package', () => {
  it('holds the build and no test files', () => {
    expect(files).toContain('dist/bin/meshsig.js')
    expect(files).toContain('dist/bin/meshsig-mcp.js')
    expect(files).toContain('dist/main.js') // the seed's `node dist/main.js start`
    expect(files).toContain('dist/node/index.js') // the library entry stays tsc's output
    expect(files).toContain('ui/dist/index.html')
    expect(files.filter((f) => /(^|\/)test\/|\.test\.|\.spec\./.test(f))).toEqual([])
  })

  it('npx meshsig start runs from the installed package: /health, the mesh, a signed message', async () => {
    const home = join(work, 'home')
    const port = await freePort()
    const p2p = await freePort()
    const child = spawnIn(['meshsig', 'start', '--port', String(port), '--p2p-port', String(p2p)], {
      MESHSIG_HOME: home,
    })
    const url = `http://127.0.0.1:${port}`
    const health = await waitForHealth(url, child)
    expect(health.status).toBe('ok')
    expect(String(health.did)).toMatch(/^did:msig:/)
    // the bundle's lazily loaded parts: libp2p, SQLite, the signing thread
    await expect.poll(async () => (await getJson(url + '/health')).mesh, { timeout: 60_000 }).toBe('ready')
    const alice = await postJson(url + '/agents/register', { name: 'alice', capabilities: [{ type: 'pack' }] })
    const bob = await postJson(url + '/agents/register', { name: 'bob', capabilities: [{ type: 'pack' }] })
    expect(alice.status).toBe(201)
    const from = alice.body.identity as { did: string; privateKey: string }
    const to = (bob.body.identity as { did: string }).did
    const sent = await postJson(url + '/messages/send', {
      fromDid: from.did,
      toDid: to,
      message: 'packed',
      privateKey: from.privateKey,
    })
    expect(sent.status).toBe(200)
    expect(sent.body).toMatchObject({ sent: true, verified: true })
    // the files the bundle finds next to the package: its version and the built pages
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version
    expect(health.version).toBe(version)
    for (const page of ['/', '/verify']) {
      const res = await fetch(url + page, { headers: { accept: 'text/html' } })
      expect(res.status).toBe(200)
      expect(await res.text()).toMatch(/<script type="module"[^>]* src="\/assets\//)
    }
    stop(child) // the node itself, not only npx: nothing answers afterwards
    const answers = (): Promise<string> =>
      fetch(url + '/health').then(
        () => 'up',
        () => 'down',
      )
    await expect.poll(answers, { timeout: 15_000 }).toBe('down')
  }, 120_000)

  it("the installed dist/main.js is the meshsig CLI (the seed's from-source entry)", async () => {
    const main = join(work, 'app', 'node_modules', 'meshsig', 'dist', 'main.js')
    const { stdout } = await run(process.execPath, [main, '--version'])
    expect(stdout).toMatch(/^meshsig\/\d+\.\d+\.\d+/)
  })

  it('npx meshsig-mcp answers initialize, lists the nine tools and runs init, sign and verify', async () => {
    const child = spawnIn(['meshsig-mcp'], { MESHSIG_HOME: join(work, 'home-mcp') })
    const init = await rpc(child, 1, 'initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'pack-test', version: '1' },
    })
    expect((init.result as { serverInfo: { name: string } }).serverInfo.name).toMatch(/meshsig/)
    child.stdin!.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) + '\n')
    const list = await rpc(child, 2, 'tools/list', {})
    const names = (list.result as { tools: { name: string }[] }).tools.map((t) => t.name)
    expect(names).toEqual(expect.arrayContaining(['meshsig_init', 'meshsig_sign', 'meshsig_verify', 'meshsig_revoked']))
    expect(names.length).toBeGreaterThanOrEqual(9)
    // tools run from the bundle: an identity made, a message signed with it and checked offline
    const call = async (id: number, name: string, args: object): Promise<Record<string, unknown>> => {
      const res = (await rpc(child, id, 'tools/call', { name, arguments: args })).result as {
        isError?: boolean
        structuredContent: Record<string, unknown>
      }
      expect(res.isError).toBeUndefined()
      return res.structuredContent
    }
    await call(3, 'meshsig_init', {})
    const signed = await call(4, 'meshsig_sign', { message: 'packed' })
    const checked = await call(5, 'meshsig_verify', {
      message: 'packed',
      signature: signed.signature as string,
      signer: signed.did as string,
    })
    expect(checked.valid).toBe(true)
    stop(child)
  }, 120_000)
})
