// Node configuration (node/config.ts) without touching the disk: the config file comes from an
// in-memory reader. Precedence is defaults ← config.json ← environment ← flags; every bad value
// is refused as INVALID_INPUT naming the setting the way the user wrote it.
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig, type ConfigSources, type NodeConfig } from '../../../node/config.js'
import { MeshsigError } from '../../../node/core/errors.js'

const home = '/nowhere/meshsig-home'
const configPath = join(home, 'config.json')

/** Load with `file` as the text of config.json (none when undefined); records the paths read. */
async function load(
  file: string | undefined,
  sources: Omit<ConfigSources, 'home' | 'readFile' | 'hostname'> = {},
): Promise<{ config: NodeConfig; reads: string[] }> {
  const reads: string[] = []
  const config = await loadConfig({
    home,
    ...sources,
    hostname: () => 'test-host',
    readFile: (path) => {
      reads.push(path)
      return path === configPath ? file : undefined
    },
  })
  return { config, reads }
}

async function refusal(file: string | undefined, sources: Omit<ConfigSources, 'home'> = {}): Promise<MeshsigError> {
  try {
    await load(file, sources)
  } catch (err) {
    if (err instanceof MeshsigError) return err
    throw err
  }
  throw new Error('expected the configuration to be refused')
}

describe('configuration', () => {
  it('runs on its defaults with no file, no variables and no flags, reading only config.json', async () => {
    const { config, reads } = await load(undefined)
    expect(config).toEqual({
      home,
      port: 4888,
      host: '127.0.0.1',
      p2pPort: 4889,
      db: join(home, 'meshsig.db'),
      name: 'test-host',
      peers: [],
      maxSkewMs: 300_000,
      rateLimit: 60,
      trustProxy: [],
      allowedHosts: [],
      trustLoopback: false,
    })
    expect(reads).toEqual([configPath])
  })

  it('takes the file over the defaults, the environment over the file, and flags over both', async () => {
    const file = JSON.stringify({ port: 5000, name: 'from-file', rateLimit: 10, peers: ['/ip4/10.0.0.1/tcp/1'] })
    const env = { MESHSIG_PORT: '6000', MESHSIG_NAME: 'from-env', MESHSIG_PEERS: 'ws://a:1, ws://b:2' }
    expect((await load(file)).config).toMatchObject({ port: 5000, p2pPort: 5001, name: 'from-file', rateLimit: 10 })
    expect((await load(file, { env })).config).toMatchObject({
      port: 6000,
      name: 'from-env',
      rateLimit: 10,
      peers: ['ws://a:1', 'ws://b:2'],
    })
    const flags = { port: 7000, name: undefined, trustLoopback: true }
    expect((await load(file, { env, flags })).config).toMatchObject({
      port: 7000,
      name: 'from-env',
      trustLoopback: true,
    })
  })

  it('refuses ports outside 1..65535 (derived mesh ports included), naming where they were set', async () => {
    expect((await refusal(undefined, { flags: { port: 65535 } })).message).toMatch(
      /^invalid --port: .*WebSockets 65537/,
    )
    expect((await refusal(JSON.stringify({ port: 70000 }))).message).toContain(`invalid "port" in ${configPath}`)
    expect((await refusal(undefined, { env: { MESHSIG_P2P_PORT: '65535' } })).message).toMatch(
      /^invalid MESHSIG_P2P_PORT: /,
    )
    for (const err of [
      await refusal(undefined, { flags: { port: 65535 } }),
      await refusal(undefined, { flags: { port: -1 } }),
      await refusal(JSON.stringify({ p2pPort: 1.5 })),
    ]) {
      expect(err.code).toBe('INVALID_INPUT')
    }
  })

  it.each([
    ['a negative rate limit', undefined, { env: { MESHSIG_RATE_LIMIT: '-1' } }, /^invalid MESHSIG_RATE_LIMIT: /],
    ['a non-boolean trust-loopback', undefined, { flags: { trustLoopback: 'maybe' } }, /^invalid --trust-loopback: /],
    ['a zero freshness window', JSON.stringify({ maxSkewMs: 0 }), {}, /^invalid "maxSkewMs" in /],
    ['an unknown setting in the file', JSON.stringify({ prot: 1 }), {}, /^invalid setting: .*prot/],
    ['a config file that is no JSON', '{port: 1', {}, /config\.json is not valid JSON/],
  ] as const)('refuses %s with INVALID_INPUT and a clear message', async (_what, file, sources, message) => {
    const err = await refusal(file, sources)
    expect(err.code).toBe('INVALID_INPUT')
    expect(err.message).toMatch(message)
  })
})
