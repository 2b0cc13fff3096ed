/**
 * Custodied seeds at rest on a real node (docs/protocol.md §2, decision
 * 0011): a copy of the running node's database (file, -wal and -shm) holds no
 * custodied seed, raw or b64, current or next, before or after a rotation;
 * the custody key stays in $MESHSIG_HOME; a revocation from the API or from
 * gossip destroys the agent's custody row; a wrong or missing custody key
 * stops the node with KEY_MISMATCH and nothing lost.
 */
import { copyFileSync, existsSync, readFileSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRevocation, keyPairFromB64 } from '../../node/core/index.js'
import {
  createIdentity,
  custodyKeyPath,
  loadIdentity,
  readCustodyKey,
  writeFileAtomic,
} from '../../node/identity/index.js'
import { MeshNode } from '../../node/mesh-node.js'
import { initCommand } from '../../cli/commands/init.js'
import { contextFrom } from '../../cli/context.js'
import { openStore } from '../../node/store/index.js'
import { startApi, type ApiFixture } from '../api/api-fixture.js'
import { freshIdentity, startNode, stopAll, tempDir } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'

const root = tempDir('meshsig-custody-node-')
const home = join(root.dir, 'home')
const dbPath = join(home, 'meshsig.db')
let fx: ApiFixture
let peer: MeshNode | undefined
/** Every seed the node has custodied, b64. */
const seeds = new Set<string>()

function remember(did: string): void {
  const row = fx.node.store.custody.get(did)!
  seeds.add(row.seed)
  if (row.nextSeed !== null) seeds.add(row.nextSeed)
}

async function register(name: string): Promise<{ did: string; privateKey: string }> {
  const r = await fx.call('POST', '/agents/register', { name, capabilities: [{ type: 'custody-test' }] })
  expect(r.status, r.text).toBe(201)
  const { did, privateKey } = r.body.identity as { did: string; privateKey: string }
  seeds.add(privateKey)
  remember(did)
  return { did, privateKey }
}

/** Copy the database with its -wal and -shm while the node runs; the copies' bytes by suffix. */
function copyDatabase(to: string): Map<string, Buffer> {
  const copies = new Map<string, Buffer>()
  for (const suffix of ['', '-wal', '-shm']) {
    if (!existsSync(dbPath + suffix)) continue
    copyFileSync(dbPath + suffix, to + suffix)
    copies.set(suffix, readFileSync(to + suffix))
  }
  return copies
}

beforeAll(async () => {
  createIdentity(home)
  fx = await startApi({}, {}, { identity: loadIdentity(home), home, dbPath })
})
afterAll(async () => {
  await stopAll([peer])
  await fx?.stop()
  root.cleanup()
})

describe('a copy of a running node’s database', () => {
  it('holds no custodied seed (raw or b64, current or next, before or after a rotation) and no custody key', async () => {
    const agents = [await register('a1'), await register('a2'), await register('a3'), await register('a4')]
    const rotated = await fx.call('POST', '/agents/rotate-key', { did: agents[0]!.did })
    expect(rotated.status, rotated.text).toBe(200)
    expect(rotated.body.custodied).toBe(true)
    remember(agents[0]!.did)
    expect(seeds.size).toBe(2 * agents.length + 1) // each agent's current and next, and the rotation's new next

    const copy = join(root.dir, 'copy.db')
    const copies = copyDatabase(copy)
    expect([...copies.keys()]).toEqual(['', '-wal', '-shm'])
    expect(copies.get('-wal')!.length).toBeGreaterThan(0)
    const all = Buffer.concat([...copies.values()])
    // the search does see what the node stored: the DIDs of the agents are there
    for (const a of agents) expect(all.includes(Buffer.from(a.did))).toBe(true)
    for (const seed of seeds) {
      for (const [suffix, bytes] of copies) {
        expect(bytes.includes(Buffer.from(seed, 'utf8')), `b64 seed in meshsig.db${suffix}`).toBe(false)
        expect(bytes.includes(Buffer.from(seed, 'base64')), `raw seed in meshsig.db${suffix}`).toBe(false)
      }
    }
    const custodyKey = readCustodyKey(home)!
    expect(statSync(custodyKeyPath(home)).mode & 0o777).toBe(0o600)
    expect(all.includes(Buffer.from(custodyKey))).toBe(false)
    expect(all.includes(Buffer.from(Buffer.from(custodyKey).toString('base64')))).toBe(false)

    // the copy is whole: with the custody key it opens; without it, not
    const withKey = openStore({ path: copy, custodyKey })
    expect(withKey.custody.get(agents[1]!.did)?.seed).toBe(agents[1]!.privateKey)
    withKey.close()
    const withoutKey = openStore({ path: copy })
    expect(() => withoutKey.custody.get(agents[1]!.did)).toThrow(expect.objectContaining({ code: 'KEY_MISMATCH' }))
    withoutKey.close()
  })
})

describe('revoking a custodied agent destroys its seed', () => {
  it('through the API: the custody row is gone with the revocation; the proxy signer still answers REVOKED', async () => {
    const { did } = await register('doomed-api')
    const r = await fx.call('POST', '/agents/revoke', { did, reason: 'decommissioned' })
    expect(r.status, r.text).toBe(200)
    expect(fx.node.store.keyEvents.state(did)?.revoked).not.toBeNull()
    expect(fx.node.store.custody.get(did)).toBeUndefined()
    expect(() => fx.node.proxySigner(did)).toThrow(expect.objectContaining({ code: 'REVOKED' }))
  })

  it('through gossip: a revocation signed elsewhere and published by a peer deletes the row here', async () => {
    const { did, privateKey } = await register('doomed-gossip')
    peer = await startNode({ peers: [fx.node.info().multiaddrs[0]!] })
    await waitFor(() => peer!.store.keyEvents.state(did), { timeout: 20_000 })
    const state = peer.store.keyEvents.state(did)!
    const rev = createRevocation(state, keyPairFromB64(privateKey), 'leaked', Date.now())
    await waitFor(() => peer!.peers().length > 0, { timeout: 20_000 })
    await waitFor(
      async () => {
        const v = await peer!.submitEnvelope(rev)
        if (!v.ok && v.error.code !== 'DUPLICATE') throw v.error
        return fx.node.store.keyEvents.state(did)?.revoked != null
      },
      { timeout: 20_000, interval: 250 },
    )
    expect(fx.node.store.custody.get(did)).toBeUndefined()
  })
})

describe('the custody key', () => {
  const home2 = join(root.dir, 'home2')
  const db2 = join(home2, 'meshsig.db')
  const create = () =>
    MeshNode.create({ name: 'k', identity: identity2, home: home2, dbPath: db2, transports: 'memory', listen: [] })
  let identity2: ReturnType<typeof freshIdentity>

  it('wrong or missing: the node refuses to open with KEY_MISMATCH and says why; the right key opens it again', async () => {
    createIdentity(home2)
    identity2 = loadIdentity(home2)
    const first = await startNode({ identity: identity2, home: home2, dbPath: db2 })
    const { identity } = await first.registerAgent('kept')
    await first.stop()
    const original = readFileSync(custodyKeyPath(home2))

    writeFileAtomic(custodyKeyPath(home2), Buffer.alloc(32, 7).toString('base64') + '\n')
    await expect(create()).rejects.toMatchObject({
      code: 'KEY_MISMATCH',
      message: expect.stringContaining(`custody key (${custodyKeyPath(home2)}) does not open`),
    })

    rmSync(custodyKeyPath(home2))
    await expect(create()).rejects.toMatchObject({
      code: 'KEY_MISMATCH',
      message: expect.stringContaining(`the custody key ${custodyKeyPath(home2)} is missing`),
    })
    expect(existsSync(custodyKeyPath(home2))).toBe(false) // no wrong key left behind

    writeFileAtomic(custodyKeyPath(home2), original)
    const again = await create()
    try {
      expect(again.store.custody.get(identity.did)?.seed).toBe(identity.privateKey)
    } finally {
      await again.stop()
    }
  })

  it('meshsig init makes it (0600 in the 0700 home) and keeps it across init --force', async () => {
    const home3 = join(root.dir, 'home3')
    const io = { stdout: () => undefined, stderr: () => undefined, readStdin: () => Promise.resolve(new Uint8Array()) }
    const ctx = contextFrom({ home: home3 }, { ...io, env: {}, now: () => Date.now() })
    await initCommand(ctx, {})
    expect(statSync(custodyKeyPath(home3)).mode & 0o777).toBe(0o600)
    expect(statSync(home3).mode & 0o777).toBe(0o700)
    const key = readCustodyKey(home3)!
    expect(key.length).toBe(32)
    await initCommand(ctx, { force: true })
    expect(readCustodyKey(home3)).toEqual(key)
  })
})
