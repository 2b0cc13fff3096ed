/**
 * The operator's CLI is not kept out by other local clients (found by the
 * new-user review of stop 32): the CLI first asks `GET /health` to prove the
 * node holds the home's token (decision 0034), and that request was counted
 * against the loopback bucket every anonymous local client shares. Now
 * `/health` is not counted, and the command itself counts against the token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../cli/app.js'
import { createApiToken } from '../../node/identity/index.js'
import { tempDir } from '../helpers/mesh.js'
import { startApi, type ApiFixture } from './api-fixture.js'

describe('meshsig stats while anonymous loopback clients have spent their budget', () => {
  let fx: ApiFixture
  const home = tempDir('meshsig-cli-rate-')
  beforeAll(async () => {
    fx = await startApi({ rateLimit: 5 }, { token: createApiToken(home.dir) })
  })
  afterAll(async () => {
    await fx.stop()
    home.cleanup()
  })

  it('answers, with the token it proved the node holds', async () => {
    while ((await fx.anon('GET', '/stats')).status !== 429) {
      // another local user's polling spends the shared loopback budget
    }
    const io = {
      out: '',
      err: '',
      stdout: (t: string) => void (io.out += t),
      stderr: (t: string) => void (io.err += t),
      readStdin: async () => new Uint8Array(),
      env: { MESHSIG_HOME: home.dir },
      now: () => Date.now(),
    }
    const code = await runCli(['node', 'meshsig', 'stats', '--json', '--server', fx.url], io)
    expect(code, io.err).toBe(0)
    expect(JSON.parse(io.out)).toMatchObject({ did: fx.node.did })
    expect((await fx.anon('GET', '/stats')).status).toBe(429) // the anonymous bucket is still spent
  })

  it('once its own budget is spent: RATE_LIMITED, exit 3 (no answer now), never exit 1 (a negative answer)', async () => {
    let last = { code: 0, err: '' }
    for (let i = 0; i < 10 && last.code === 0; i++) {
      const io = {
        err: '',
        stdout: () => undefined,
        stderr: (t: string) => void (io.err += t),
        readStdin: async () => new Uint8Array(),
        env: { MESHSIG_HOME: home.dir },
        now: () => Date.now(),
      }
      last = { code: await runCli(['node', 'meshsig', 'stats', '--server', fx.url], io), err: io.err }
    }
    expect(last.code).toBe(3)
    expect(last.err).toMatch(/too many requests/)
  })
})
