// Node configuration: every port the node listens on (API, mesh TCP, mesh WebSockets) stays
// within 1..65535 (0 = OS-chosen), and a bad one is reported under the name the user set it by.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { listenAddresses, loadConfig, type ConfigSources } from '../../node/config.js'
import { MeshsigError } from '../../node/core/errors.js'

let home: string

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'meshsig-config-'))
})
afterEach(() => rmSync(home, { recursive: true, force: true }))

function load(sources: Omit<ConfigSources, 'home'>): ReturnType<typeof loadConfig> {
  return loadConfig({ home, ...sources })
}

async function errorOf(fn: () => unknown): Promise<MeshsigError> {
  try {
    await fn()
  } catch (err) {
    if (err instanceof MeshsigError) return err
    throw err
  }
  throw new Error('expected a MeshsigError')
}

describe('ports', () => {
  it('derives the mesh ports from the API port', async () => {
    const config = await load({ flags: { port: '4888' } })
    expect(config.p2pPort).toBe(4889)
    expect(listenAddresses(config)).toEqual(['/ip4/127.0.0.1/tcp/4889', '/ip4/127.0.0.1/tcp/4890/ws'])
  })

  it('accepts the highest ports that still fit', async () => {
    expect(listenAddresses(await load({ flags: { port: 65533 } }))).toEqual([
      '/ip4/127.0.0.1/tcp/65534',
      '/ip4/127.0.0.1/tcp/65535/ws',
    ])
    expect((await load({ flags: { port: 65535, p2pPort: 65534 } })).port).toBe(65535)
  })

  it('keeps 0 as OS-chosen for every port', async () => {
    const config = await load({ flags: { port: 0 } })
    expect(listenAddresses(config)).toEqual(['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'])
    expect((await load({ flags: { port: 65535, p2pPort: 0 } })).p2pPort).toBe(0)
  })

  it.each([65534, 65535])('rejects --port %i: the derived mesh ports would pass 65535', async (port) => {
    const err = await errorOf(() => load({ flags: { port } }))
    expect(err.code).toBe('INVALID_INPUT')
    expect(err.message).toMatch(/^invalid --port: /)
    expect(err.message).toContain(`WebSockets ${port + 2}`)
    expect(err.message).toContain('--p2p-port')
  })

  it('rejects --p2p-port 65535: WebSockets would listen on 65536', async () => {
    const err = await errorOf(() => load({ flags: { port: 4888, p2pPort: '65535' } }))
    expect(err.code).toBe('INVALID_INPUT')
    expect(err.message).toMatch(/^invalid --p2p-port: 65535 puts WebSockets on 65536/)
  })

  it.each([
    ['port', 65536],
    ['port', -1],
    ['p2pPort', 70000],
    ['port', 'http'],
    ['port', 4888.5],
  ])('rejects %s = %s, naming the flag', async (key, value) => {
    const err = await errorOf(() => load({ flags: { [key]: value } }))
    expect(err.code).toBe('INVALID_INPUT')
    expect(err.message).toMatch(key === 'port' ? /^invalid --port: / : /^invalid --p2p-port: /)
  })

  it('names the environment variable or the config file entry when that is where the port came from', async () => {
    expect((await errorOf(() => load({ env: { MESHSIG_PORT: '65535' } }))).message).toMatch(/^invalid MESHSIG_PORT: /)
    expect((await errorOf(() => load({ env: { MESHSIG_P2P_PORT: '99999' } }))).message).toMatch(
      /^invalid MESHSIG_P2P_PORT: must be a port within 1\.\.65535/,
    )
    writeFileSync(join(home, 'config.json'), JSON.stringify({ port: 65534 }))
    expect((await errorOf(() => load({}))).message).toContain(`invalid "port" in ${join(home, 'config.json')}: 65534`)
    // A flag overrides the file, and is what the error names.
    expect((await errorOf(() => load({ flags: { port: 65535 } }))).message).toMatch(/^invalid --port: 65535/)
  })
})

// Review 105 L1: `--peer garbage` started a node that only logged a warning; a peer must be a
// multiaddr or a seed address, and anything else ends `meshsig start` before it listens.
describe('peers', () => {
  const PEER_ID = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'

  it('accepts multiaddrs and seed addresses', async () => {
    const peers = [
      'ws://server1:4888',
      'wss://node.example',
      `/ip4/203.0.113.7/tcp/4889/p2p/${PEER_ID}`,
      '/dns4/a.b/tcp/1/ws',
    ]
    expect((await load({ flags: { peers } })).peers).toEqual(peers)
  })

  it.each([
    ['garbage', 'neither a multiaddr'],
    ['/ip4/garbage', 'not a multiaddr'],
    ['server1:4888', 'scheme server1:'],
    ['ftp://server1', 'scheme ftp:'],
    ['/ip4/203.0.113.7/tcp/4889/p2p/garbage', '/p2p/ part is not a PeerId'],
    ['/', 'empty multiaddr'],
  ])('refuses --peer %s, naming it, the flag and the accepted forms', async (peer, problem) => {
    const err = await errorOf(() => load({ flags: { peers: ['ws://server1:4888', peer] } }))
    expect(err.code).toBe('INVALID_INPUT')
    expect(err.message).toMatch(/^invalid --peer: /)
    expect(err.message).toContain(JSON.stringify(peer))
    expect(err.message).toContain(problem)
    expect(err.message).toContain('ws://host:port')
    expect(err.message).toContain('/p2p/<PeerId>')
    expect(err.message).not.toContain('\n')
  })

  it('names MESHSIG_PEERS or the config file entry when that is where the peer came from', async () => {
    expect((await errorOf(() => load({ env: { MESHSIG_PEERS: 'ws://a:1, junk' } }))).message).toMatch(
      /^invalid MESHSIG_PEERS: "junk" /,
    )
    writeFileSync(join(home, 'config.json'), JSON.stringify({ peers: ['junk'] }))
    expect((await errorOf(() => load({}))).message).toContain(`invalid "peers" in ${join(home, 'config.json')}: "junk"`)
  })
})
