/**
 * `rotate-key`, `revoke`, `revoked` and `verify` as real processes against a
 * node running in this process (its API on a free port, its identity in the
 * same $MESHSIG_HOME as the CLI's). Processes run asynchronously so the node
 * keeps answering while the CLI waits for it.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serveApi, type ServedApi } from '../../api/server.js'
import {
  createInception,
  didKeyFromPublicKey,
  fromB64,
  peerIdFromPublicKey,
  generateKeyPair,
  keyPairFromB64,
  toB64,
  utf8,
} from '../../node/core/index.js'
import { createIdentity, ensureApiToken, loadIdentity } from '../../node/identity/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { testConfig } from '../api/api-fixture.js'
import { startNode, stopAll, tempDir } from '../helpers/mesh.js'
import { ownAgent } from '../integration/keys-fixture.js'
import { buildCli, type BuiltCli } from './build-cli.js'
import { freePort, getJson, startProcess } from '../helpers/node-process.js'
import { waitFor } from '../helpers/wait-for.js'

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
}

let cli: BuiltCli
let node: MeshNode | undefined
let api: ServedApi | undefined
const root = tempDir('meshsig-keys-cli-')
const home = join(root.dir, 'home')

function meshsig(
  args: string[],
  opts: { input?: string; home?: string; env?: Record<string, string> } = {},
): Promise<Run> {
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli.main, ...args], {
      env: { PATH: process.env.PATH ?? '', MESHSIG_HOME: opts.home ?? home, ...opts.env },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }))
    child.stdin.end(opts.input ?? '')
  })
}

const online = (...args: string[]): string[] => [...args, '--server', api!.url]
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = (r: Run): any => JSON.parse(r.stdout)
const identityFile = (h = home): Record<string, unknown> =>
  JSON.parse(readFileSync(join(h, 'identity.json'), 'utf8')) as Record<string, unknown>

beforeAll(async () => {
  cli = buildCli()
  createIdentity(home)
  node = await startNode({ identity: loadIdentity(home), home })
  api = await serveApi(node, testConfig(), { verifyWorkers: 0, token: ensureApiToken(home) })
})
afterAll(async () => {
  await api?.close()
  await stopAll([node])
  cli?.cleanup()
  root.cleanup()
})

describe('meshsig rotate-key (the identity in $MESHSIG_HOME) and verify through the node', () => {
  let did: string
  let oldSig: string
  let oldKey: string

  it('rotates: identity.json first, the running node takes the new key; the DID stays; no private key printed', async () => {
    const before = identityFile()
    did = String(before.did)
    oldKey = String(before.publicKey)
    oldSig = json(await meshsig(['sign', 'hello', '--json'])).signature
    const r = await meshsig(online('rotate-key'))
    expect(r.code, r.stderr).toBe(0)
    const after = identityFile()
    expect(after.did).toBe(did)
    expect(after.publicKey).not.toBe(before.publicKey)
    expect(r.stdout).toMatch(/^✓ Key rotated\n/)
    expect(r.stdout).toContain(`${did} (unchanged)`)
    expect(r.stdout).toContain(String(after.publicKey))
    expect(r.stdout).toMatch(/Key seq: +1\n/)
    expect(r.stdout).toContain('signs with the new key now')
    // the running node's mesh moved to the new key's PeerId before it answered (docs/protocol.md §2)
    const peerId = peerIdFromPublicKey(fromB64(String(after.publicKey)))
    expect(r.stdout).toContain(`${peerId} (the node runs under it now)`)
    expect(node!.mesh.peerId).toBe(peerId)
    for (const secret of [before.privateKey, before.nextPrivateKey, after.privateKey, after.nextPrivateKey]) {
      expect(r.stdout).not.toContain(String(secret))
    }
    expect(toB64(node!.signerKey(did).publicKey!)).toBe(after.publicKey)
    expect(node!.info().didKey).toBe(didKeyFromPublicKey(fromB64(String(after.publicKey))))
  })

  it('verify takes the current key from the node: new signatures valid, old ones ROTATED_KEY (exit 1)', async () => {
    const newSig = json(await meshsig(['sign', 'hello', '--json'])).signature
    const ok = await meshsig(online('verify', 'hello', newSig, did))
    expect(ok.code).toBe(0)
    expect(ok.stdout).toContain('✓ SIGNATURE VALID')
    expect(ok.stdout).toContain('current key (seq 1)')
    const old = await meshsig(online('verify', 'hello', oldSig, did, '--json'))
    expect(old.code).toBe(1)
    expect(json(old)).toMatchObject({ valid: false, code: 'ROTATED_KEY', keySource: 'key event log (node)' })
  })

  it('a did:key or public key is judged by the log of the DID it names: the rotated-out key is ROTATED_KEY', async () => {
    for (const signer of [oldKey, didKeyFromPublicKey(fromB64(oldKey))]) {
      const r = await meshsig(online('verify', 'hello', oldSig, signer, '--json'))
      expect(r.code, signer).toBe(1)
      expect(json(r), signer).toMatchObject({
        valid: false,
        code: 'ROTATED_KEY',
        did,
        keySource: 'key event log (node)',
      })
    }
    const human = await meshsig(online('verify', 'hello', oldSig, oldKey))
    expect(human.stdout).toContain('✗ SIGNATURE INVALID')
    expect(human.stdout).toContain(did)
    // offline, the key is all there is: valid, and the answer says what it could not check
    const offline = await meshsig(['verify', 'hello', oldSig, oldKey, '--offline', '--json'])
    expect(offline.code).toBe(0)
    expect(json(offline)).toMatchObject({ valid: true, did, keySource: 'public key' })
    expect(json(offline).note).toMatch(/only a node knows whether the DID it names rotated away from it or is revoked/)
  })

  it('without a node (or with --offline) verify checks the inception key, says so, and does not wait', async () => {
    const offline = await meshsig(['verify', 'hello', oldSig, did, '--offline', '--json'])
    expect(offline.code).toBe(0)
    expect(json(offline)).toMatchObject({ valid: true, keySource: 'did:msig inception key (offline)' })
    const down = await meshsig(['verify', 'hello', oldSig, did, '--server', 'http://127.0.0.1:1'])
    expect(down.code).toBe(0)
    expect(down.stdout).toMatch(/fell back offline/)
    expect(down.stdout).toMatch(/inception key/)
    expect(down.ms).toBeLessThan(5_000)
  })

  it('a second rotation in JSON, through the alias rotate: key seq 2, node updated', async () => {
    const r = await meshsig(online('rotate', '--json'))
    expect(r.code, r.stdout).toBe(0)
    expect(json(r)).toMatchObject({ rotated: true, did, keySeq: 2, node: { status: 'updated' } })
    expect(node!.store.keyEvents.state(did)!.seq).toBe(2)
  })

  it('with no node answering, only identity.json changes; the node publishes it when it starts', async () => {
    const other = join(root.dir, 'other-home')
    createIdentity(other)
    const r = await meshsig(['rotate-key', '--server', 'http://127.0.0.1:1', '--json'], { home: other })
    expect(r.code, r.stdout).toBe(0)
    expect(json(r)).toMatchObject({ rotated: true, keySeq: 1, node: { status: 'pending' } })
    expect((identityFile(other).keyLog as unknown[]).length).toBe(2)
  })
})

describe('meshsig rotate-key --did (agents hosted by the node)', () => {
  it('a custodied agent: the node signs; nothing secret printed', async () => {
    const { identity } = await node!.registerAgent('cli-rotated')
    const r = await meshsig(online('rotate-key', '--did', identity.did, '--json'))
    expect(r.code, r.stdout).toBe(0)
    expect(json(r)).toMatchObject({ rotated: true, did: identity.did, keySeq: 1, custodied: true })
    expect(json(r)).not.toHaveProperty('privateKey')
    expect(json(r)).not.toHaveProperty('nextPrivateKey')
  })

  it('an agent the node made, rotated with its private key alone (the node keeps the next key), as over REST', async () => {
    const { identity } = await node!.registerAgent('cli-rotated-by-key')
    const r = await meshsig(online('rotate-key', '--did', identity.did, '--private-key', '-', '--json'), {
      input: identity.privateKey,
    })
    expect(r.code, r.stdout).toBe(0)
    expect(json(r)).toMatchObject({ rotated: true, did: identity.did, keySeq: 1, custodied: true })
    expect(r.stdout).not.toContain(identity.privateKey)
    const again = await meshsig(online('rotate-key', '--did', identity.did, '--private-key', '-', '--json'), {
      input: identity.privateKey, // the old key now
    })
    expect(again.code).toBe(1)
    expect(json(again).code).toBe('KEY_MISMATCH')
  })

  it('an agent with its own keys: both keys from stdin, the rotation signed here; the new next key shown once', async () => {
    const agent = await ownAgent(node!, 'cli-own')
    const input = `${toB64(agent.key.seed)}\n${toB64(agent.next.seed)}\n`
    const args = online('rotate-key', '--did', agent.did, '--private-key', '-', '--next-private-key', '-')
    const r = await meshsig(args, { input })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/Next private key: \S+ \(shown once/)
    expect(r.stdout).not.toContain(toB64(agent.key.seed))
    expect(r.stdout).not.toContain(toB64(agent.next.seed))
    expect(node!.store.keyEvents.state(agent.did)!.key).toBe(toB64(agent.next.publicKey))
    const wrong = await meshsig([...args, '--json'], { input: `${toB64(agent.key.seed)}\n${toB64(agent.key.seed)}` })
    expect(wrong.code).toBe(1)
    expect(json(wrong).code).toBe('KEY_MISMATCH')
  })
})

describe('meshsig revoke and revoked', () => {
  it('revokes a hosted agent: ✓ Revoked, listed by revoked with reason, time and who; verify says REVOKED', async () => {
    const { identity } = await node!.registerAgent('cli-doomed')
    const sig = toB64(keyPairFromB64(identity.privateKey).sign(utf8('bye')))
    const r = await meshsig(online('revoke', identity.did, '--reason', 'Key leaked'))
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^✓ Revoked\n/)
    expect(r.stdout).toContain('Key leaked')
    const list = await meshsig(online('revoked', '--json'))
    expect(json(list).revoked.find((x: { did: string }) => x.did === identity.did)).toMatchObject({
      reason: 'Key leaked',
      by: 'self',
      name: 'cli-doomed',
    })
    expect((await meshsig(online('revoked'))).stdout).toContain(`by self: "Key leaked"`)
    const v = await meshsig(online('verify', 'bye', sig, identity.did))
    expect(v.code).toBe(1)
    expect(v.stdout).toContain('REVOKED')
    for (const signer of [identity.publicKey, didKeyFromPublicKey(fromB64(identity.publicKey))]) {
      const k = await meshsig(online('verify', 'bye', sig, signer, '--json'))
      expect(k.code, signer).toBe(1)
      expect(json(k), signer).toMatchObject({ valid: false, code: 'REVOKED', did: identity.did })
    }
    const again = await meshsig(online('revoke', identity.did, '--reason', 'twice', '--json'))
    expect(again.code).toBe(1)
    expect(json(again).code).toBe('REVOKED')
  })

  it('without proof nothing changes: exit 1 with the code, with or without a reason', async () => {
    const stranger = createInception(generateKeyPair(), Date.now(), null)
    expect((await node!.submitEnvelope(stranger)).ok).toBe(true)
    const r = await meshsig(online('revoke', stranger.did, '--reason', 'not mine', '--json'))
    expect(r.code).toBe(1)
    expect(json(r)).toMatchObject({ revoked: false, code: 'UNAUTHORIZED' })
    expect(node!.store.keyEvents.state(stranger.did)!.revoked).toBeNull()
    // no --reason is "unspecified" (decision 0077), as the API's: still no proof
    const bare = await meshsig(online('revoke', stranger.did, '--json'))
    expect(bare.code).toBe(1)
    expect(json(bare)).toMatchObject({ revoked: false, code: 'UNAUTHORIZED' })
    expect(node!.store.keyEvents.state(stranger.did)!.revoked).toBeNull()
  })

  it("with its own key, from a home whose token is another node's: NODE_UNPROVEN, nothing sent; the node's token proves it", async () => {
    const stranger = generateKeyPair()
    const icp = createInception(stranger, Date.now(), null)
    expect((await node!.submitEnvelope(icp)).ok).toBe(true)
    const otherHome = join(root.dir, 'foreign-token-home')
    ensureApiToken(otherHome) // this user's own node's token: not the token of the node asked
    const args = online('revoke', icp.did, '--reason', 'Key leaked', '--private-key', '-', '--json')
    // a server that cannot prove it holds the token at hand is not taken for the node (decision 0055)
    const refused = await meshsig(args, { home: otherHome, input: toB64(stranger.seed) })
    expect(refused.code, refused.stdout).toBe(3)
    expect(json(refused)).toMatchObject({ code: 'NODE_UNPROVEN' })
    expect(node!.store.keyEvents.state(icp.did)!.revoked).toBeNull()
    // the node's own token in MESHSIG_TOKEN: proven, and the signed revocation goes through
    const env = { MESHSIG_TOKEN: ensureApiToken(home) }
    const r = await meshsig(args, { home: otherHome, input: toB64(stranger.seed), env })
    expect(r.code, r.stdout).toBe(0)
    expect(json(r)).toMatchObject({ revoked: true, did: icp.did })
    expect(node!.store.keyEvents.state(icp.did)!.revoked).toMatchObject({ reason: 'Key leaked' })
  })

  it("revoking the node's own DID needs --own-identity; then signs with the identity key and records it in identity.json", async () => {
    const did = String(identityFile().did)
    // asked for by name only (decision 0077): without the flag it is bad usage and nothing is sent
    const unasked = await meshsig(online('revoke', did, '--reason', 'decommissioned', '--json'))
    expect(unasked.code, unasked.stdout).toBe(2)
    expect(json(unasked)).toMatchObject({ code: 'INVALID_INPUT', details: { field: 'own-identity' } })
    expect(json(unasked).error).toContain('--own-identity')
    expect(node!.store.keyEvents.state(did)!.revoked).toBeNull()
    const other = createInception(generateKeyPair(), Date.now(), null).did
    const notOwn = await meshsig(online('revoke', other, '--own-identity', '--json'))
    expect(notOwn.code, notOwn.stdout).toBe(2)
    const r = await meshsig(online('revoke', did, '--own-identity', '--reason', 'decommissioned', '--json'))
    expect(r.code, r.stdout).toBe(0)
    expect(json(r)).toMatchObject({ revoked: true, did, by: 'self' })
    expect((identityFile().keyLog as { type: string }[]).at(-1)!.type).toBe('rev')
    expect(node!.store.keyEvents.state(did)!.revoked).toMatchObject({ reason: 'decommissioned' })
  })

  it('a node started on a revoked identity says so in one warning line, and /health says "revoked"', async () => {
    const did = String(identityFile().did)
    expect(node!.store.keyEvents.state(did)!.revoked).not.toBeNull() // the test above revoked it
    await api?.close()
    await stopAll([node])
    api = undefined
    node = undefined
    const proc = startProcess(cli, home, await freePort())
    try {
      const health = async (): Promise<Record<string, unknown> | undefined> =>
        getJson(`${proc.url}/health`).catch(() => undefined)
      await waitFor(async () => (await health())?.mesh === 'ready', { timeout: 60_000, message: 'the node starts' })
      expect(await health()).toMatchObject({ status: 'revoked', revocation: { reason: 'decommissioned', by: 'self' } })
      await waitFor(() => proc.output().includes('is running'), { message: 'the start banner' })
      const warnings = proc
        .output()
        .split('\n')
        .filter((l) => l.startsWith('WARNING:'))
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toContain(did)
      expect(warnings[0]).toContain('revoked')
      expect(warnings[0]).toContain('decommissioned')
    } finally {
      proc.child.kill('SIGTERM')
      await proc.exited()
    }
  })
})
