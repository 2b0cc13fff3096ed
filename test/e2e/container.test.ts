/**
 * The Dockerfile, built and run for real (docs/interop.md §5): the image builds offline (podman: from
 * the host's npm cache), the container starts, answers /health on its published port, takes state
 * changes only with the operator token it made in /data, keeps its identity (same DID, same peer,
 * same registered agent) when a new container runs on the same volume, and refuses to run as root.
 * Runs where podman (or docker with a daemon) can run containers and the user is root; the base
 * image `node:22-slim` is pulled or, where no registry is reachable, assembled by
 * scripts/container-base.sh and kept by name for later runs. Otherwise skipped with the reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  buildImage,
  engineRun,
  ensureBaseImage,
  healthcheckPasses,
  pickEngine,
  probeEngine,
  publishedPort,
  waitForHealth,
  type Engine,
  type Health,
} from './container-fixture.js'

const IMAGE = 'localhost/meshsig:e2e'
const picked = pickEngine()
let engine: Engine | undefined
let reason = typeof picked === 'string' ? undefined : picked.skip
if (typeof picked === 'string') {
  reason = await ensureBaseImage(picked)
  if (reason === undefined) {
    const probed = await probeEngine(picked)
    if (typeof probed === 'string') reason = probed
    else engine = probed
  }
}
if (reason !== undefined) console.warn(`container e2e skipped: ${reason}`)

describe.skipIf(engine === undefined)('the Dockerfile, built and run', { timeout: 600_000 }, () => {
  const e = engine as Engine
  const tag = `${process.pid}-${Date.now()}`
  const volume = `meshsig-e2e-data-${tag}`
  const names: string[] = []
  let token = ''

  /** Start a container of the image on the volume; the API's published host port. */
  const start = async (): Promise<string> => {
    const name = `meshsig-e2e-${tag}-${names.length}`
    names.push(name)
    const r = await engineRun(e, [
      'run',
      '-d',
      '--name',
      name,
      ...e.limits,
      '-p',
      '127.0.0.1::4888',
      '-v',
      `${volume}:/data`,
      IMAGE,
    ])
    expect(r.code, r.out).toBe(0)
    return `http://127.0.0.1:${await publishedPort(e, name, 4888)}`
  }

  beforeAll(async () => {
    const built = await buildImage(e, IMAGE)
    expect(built.code, built.out.slice(-3000)).toBe(0)
  }, 1_500_000)

  afterAll(async () => {
    for (const name of names) await engineRun(e, ['rm', '-f', name])
    await engineRun(e, ['volume', 'rm', '-f', volume])
  })

  let first: Health
  let agentDid = ''

  it('starts as uid 1000, answers /health, passes its HEALTHCHECK and takes state changes only with the token it made in /data', async () => {
    const base = await start()
    first = await waitForHealth(base)
    expect(first.status).toBe('ok')
    expect(first.did).toMatch(/^did:msig:/)
    const name = names[0]!
    expect(await healthcheckPasses(e, name)).toBe(true)
    expect((await engineRun(e, ['exec', name, 'id', '-u'])).stdout.trim()).toBe('1000')
    expect((await engineRun(e, ['exec', name, 'stat', '-c', '%a %U', '/data', '/data/api-token'])).stdout.trim()).toBe(
      '700 node\n600 node',
    )
    const read = await engineRun(e, ['exec', name, 'cat', '/data/api-token'])
    token = read.stdout.trim()
    expect(token.length).toBeGreaterThan(20)
    const body = JSON.stringify({ name: 'container-agent', capabilities: [{ type: 'e2e' }] })
    const headers = { 'content-type': 'application/json' }
    const anon = await fetch(`${base}/agents/register`, { method: 'POST', headers, body })
    expect(anon.status).toBe(401)
    const withToken = await fetch(`${base}/agents/register`, {
      method: 'POST',
      headers: { ...headers, authorization: `Bearer ${token}` },
      body,
    })
    expect(withToken.status).toBe(201)
    agentDid = ((await withToken.json()) as { identity: { did: string } }).identity.did
    expect(agentDid).toMatch(/^did:msig:/)
  })

  it('keeps its identity, token and agents when a new container runs on the same volume', async () => {
    expect((await engineRun(e, ['rm', '-f', names[0]!])).code).toBe(0)
    const base = await start()
    const again = await waitForHealth(base)
    expect(again.did).toBe(first.did)
    expect(again.peerId).toBe(first.peerId)
    const agent = await fetch(`${base}/agents/${agentDid}`)
    expect(agent.status).toBe(200)
    const still = await fetch(`${base}/agents/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ name: 'second-agent' }),
    })
    expect(still.status).toBe(201)
  })

  it('refuses to run as root, with a clear message, and leaves /data as it was', async () => {
    const r = await engineRun(e, ['run', '--rm', ...e.limits, '--user', '0', '-v', `${volume}:/data`, IMAGE])
    expect(r.code).not.toBe(0)
    expect(r.out).toMatch(/meshsig: refusing to run as root/)
    const owner = await engineRun(e, [
      'run',
      '--rm',
      ...e.limits,
      '-v',
      `${volume}:/data`,
      '--entrypoint',
      'stat',
      IMAGE,
      '-c',
      '%U',
      '/data/api-token',
    ])
    expect(owner.stdout.trim()).toBe('node')
  })
})
