import { randomBytes } from 'node:crypto'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApi, type Api } from '../../api/app.js'
import { fromB64, toB64, toHex, utf8 } from '../../node/core/encoding.js'
import { didKeyFromPublicKey, toMsigDid } from '../../node/core/did.js'
import { keyPairFromB64 } from '../../node/core/keys.js'
import type { BuiltCli } from '../cli/build-cli.js'
import { tempDir } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { startKeysMesh, type KeysMesh } from '../integration/keys-fixture.js'
import { buildMcp, connectMcp, transcript, type McpSession } from './mcp-fixture.js'

/** An agent registered through a node's API (the node made and keeps its key). */
interface Registered {
  readonly did: string
  readonly privateKey: string
}

let built: BuiltCli
let mesh: KeysMesh
let root: { dir: string; cleanup: () => void }
let home: string
let mcp: McpSession
let alpha: Registered
let beta: Registered
let remote: Registered
/** Every agent registered in this file, with its private key (for the secret scan). */
const registered: Registered[] = []

async function register(node: number, name: string, capability: string): Promise<Registered> {
  const r = await mesh.call(node, 'POST', '/agents/register', { name, capabilities: [{ type: capability }] })
  expect(r.status).toBe(201)
  const agent = { did: r.body.identity.did, privateKey: r.body.identity.privateKey }
  registered.push(agent)
  return agent
}

function sign(agent: Registered, message: string): string {
  return toB64(keyPairFromB64(agent.privateKey).sign(utf8(message)))
}

beforeAll(async () => {
  built = buildMcp()
  mesh = await startKeysMesh(2)
  root = tempDir('meshsig-mcp-online-')
  home = join(root.dir, 'home')
  mcp = await connectMcp({ main: built.main, home, server: mesh.apis[0]!.url })
  expect((await mcp.call('meshsig_init')).isError).toBe(false)
  // the operator of node 0 is the user whose home the MCP server reads (docs/protocol.md §8)
  writeFileSync(join(home, 'api-token'), mesh.token + '\n', { mode: 0o600 })
  alpha = await register(0, 'alpha', 'analysis')
  beta = await register(0, 'beta', 'translation')
  remote = await register(1, 'remote', 'analysis')
  await waitFor(async () => (await mesh.call(0, 'GET', `/agents/${remote.did}`)).status === 200, {
    message: 'node 0 learns the agent registered on node 1',
  })
})

afterAll(async () => {
  await mcp?.close()
  await mesh?.stop()
  built?.cleanup()
  root?.cleanup()
})

describe('meshsig-mcp against a running node: agents, stats, verify', () => {
  it('agents and stats reflect the agents registered through the API', async () => {
    const agents = await mcp.call('meshsig_agents')
    expect(agents.isError).toBe(false)
    expect(agents.data.total).toBe(3)
    const byDid = new Map(agents.data.agents.map((a: { did: string }) => [a.did, a]))
    expect(byDid.get(alpha.did)).toMatchObject({ name: 'alpha', origin: 'local', status: 'active' })
    expect(byDid.get(remote.did)).toMatchObject({ name: 'remote', origin: 'remote' })
    for (const name of ['alpha', 'beta', 'remote']) expect(agents.text).toContain(name)
    const stats = await mcp.call('meshsig_stats')
    expect(stats.isError).toBe(false)
    expect(stats.data).toMatchObject({ agents: 3, localAgents: 2, revoked: 0, did: mesh.nodes[0]!.did })
    expect(stats.text).toContain('Agents')
  })

  it('verify resolves a registered did:msig to its current key through the node', async () => {
    const signature = sign(alpha, 'Analyze the Q1 sales report')
    const ok = await mcp.call('meshsig_verify', {
      message: 'Analyze the Q1 sales report',
      signature,
      signer: alpha.did,
    })
    expect(ok.isError).toBe(false)
    expect(ok.data).toMatchObject({ valid: true, keySource: 'key event log (node)', keySeq: 0 })
    expect(ok.data.note).toBeUndefined()
    const tampered = await mcp.call('meshsig_verify', {
      message: 'Analyze the Q2 sales report',
      signature,
      signer: alpha.did,
    })
    expect(tampered.data).toMatchObject({ valid: false, code: 'SIGNATURE_INVALID' })
  })

  it('after the node rotates an agent’s key, a signature by the old key no longer verifies (ROTATED_KEY)', async () => {
    const message = 'signed before the rotation'
    const signature = sign(alpha, message)
    const rotated = await mesh.call(0, 'POST', '/agents/rotate-key', { did: alpha.did })
    expect(rotated.status).toBe(200)
    const r = await mcp.call('meshsig_verify', { message, signature, signer: alpha.did })
    expect(r.isError).toBe(false)
    expect(r.data).toMatchObject({ valid: false, code: 'ROTATED_KEY', keySeq: 1 })
    // the old key as a did:key or a b64 key names the same DID, and its log decides (docs/protocol.md §1)
    const oldKey = keyPairFromB64(alpha.privateKey).publicKey
    for (const signer of [toB64(oldKey), didKeyFromPublicKey(oldKey)]) {
      const k = await mcp.call('meshsig_verify', { message, signature, signer })
      expect(k.data, signer).toMatchObject({ valid: false, code: 'ROTATED_KEY', did: alpha.did })
    }
  })
})

describe('meshsig-mcp against a running node: revoke, revoked, audit', () => {
  it('revoke without proof (an agent another node hosts) is refused with a code and changes nothing', async () => {
    const r = await mcp.call('meshsig_revoke', { did: remote.did, reason: 'not yours' })
    expect(r.isError).toBe(true)
    expect(r.data).toMatchObject({ code: 'UNAUTHORIZED', revoked: false, did: remote.did })
    expect(r.data.error).toMatch(/holds no proof for that DID/)
    // a model is never told to fetch a private key (docs/mcp.md)
    expect(r.data.error).toMatch(/never ask anyone for a private key/)
    expect(r.text).not.toMatch(/send privateKey/)
    expect((await mesh.call(0, 'GET', `/keys/${remote.did}`)).body.revoked).toBe(false)
    expect((await mcp.call('meshsig_revoked')).data.total).toBe(0)
    expect((await mcp.call('meshsig_stats')).data.revoked).toBe(0)
  })

  it('bad DIDs are refused with INVALID_DID', async () => {
    const r = await mcp.call('meshsig_revoke', { did: 'did:web:example.com' })
    expect(r.isError).toBe(true)
    expect(r.data.code).toBe('INVALID_DID')
    // a private key pasted as the DID: refused without the key or the DID it would read as in the transcript
    const seed = randomBytes(32).toString('base64')
    const leaked = await mcp.call('meshsig_revoke', { did: seed, reason: 'oops' })
    expect(leaked.data.code).toBe('INVALID_DID')
    const said = JSON.stringify(leaked)
    for (const secret of [seed, toMsigDid(seed)]) expect(said).not.toContain(secret)
  })

  it('revoke of an agent the node custodies works from loopback, and revoked lists it', async () => {
    const r = await mcp.call('meshsig_revoke', { did: beta.did, reason: 'Key leaked' })
    expect(r.isError).toBe(false)
    expect(r.data).toMatchObject({ revoked: true, did: beta.did, reason: 'Key leaked', final: true })
    expect(r.text).toContain('Revoked')
    const revoked = await mcp.call('meshsig_revoked')
    expect(revoked.data.total).toBe(1)
    expect(revoked.data.revoked[0]).toMatchObject({ did: beta.did, reason: 'Key leaked' })
    expect(revoked.text).toContain('Key leaked')
    const agents = (await mcp.call('meshsig_agents')).data.agents as Array<{ did: string; status: string }>
    expect(agents.find((a) => a.did === beta.did)?.status).toBe('revoked')
    const again = await mcp.call('meshsig_revoke', { did: beta.did })
    expect(again.isError).toBe(true)
    expect(again.data.code).toBe('REVOKED')
  })

  it('verify under a revoked DID answers valid false with REVOKED', async () => {
    const r = await mcp.call('meshsig_verify', { message: 'late', signature: sign(beta, 'late'), signer: beta.did })
    expect(r.isError).toBe(false)
    expect(r.data).toMatchObject({ valid: false, code: 'REVOKED', revocation: { reason: 'Key leaked' } })
    const key = toB64(keyPairFromB64(beta.privateKey).publicKey)
    const k = await mcp.call('meshsig_verify', { message: 'late', signature: sign(beta, 'late'), signer: key })
    expect(k.data).toMatchObject({ valid: false, code: 'REVOKED', did: beta.did })
  })

  it('audit returns the export summary and the checkpoint as the server states it, not the whole export', async () => {
    const r = await mcp.call('meshsig_audit')
    expect(r.isError).toBe(false)
    const full = (await mesh.call(0, 'GET', '/audit/export')).body
    expect(r.data.summary).toMatchObject({ totalAgents: 3, revokedAgents: 1, keyEvents: full.summary.keyEvents })
    expect(r.data.node).toEqual({ name: full.node.name, did: mesh.nodes[0]!.did })
    expect(r.data.checkpoint).toMatchObject({ origin: mesh.nodes[0]!.did, root: expect.any(String) })
    expect(r.data.checkpoint.size).toBeGreaterThan(0)
    expect(r.data.checkpoint.signedAt).toMatch(/^\d{4}-\d\d-\d\dT/)
    for (const key of ['entries', 'messages', 'agents', 'leafHashes', 'keyEvents'])
      expect(r.data).not.toHaveProperty(key)
    expect(JSON.stringify(r.raw).length).toBeLessThan(JSON.stringify(full).length)
    expect(r.text).toContain('Audit report')
    // the tool checks no signature, so it claims none (review 71, F5): the checkpoint is the server's word
    expect(r.data.checkpoint.signatureChecked).toBe(false)
    expect(r.text).not.toMatch(/signed by/i)
    expect(r.text).toContain('not checked here: meshsig audit verify checks it offline')
  })

  it('no tool output ever held a private key or the API token', () => {
    secretScan([home])
  })
})

describe('meshsig-mcp against a node bound off loopback: the API token in $MESHSIG_HOME', () => {
  const token = 'mcp-test-token-0123456789abcdefghijklmnopqr'
  let api: Api
  let server: Server
  let tokenHome: string
  let session: McpSession

  beforeAll(async () => {
    // the API believes it is bound to every interface (token required); the test server listens on loopback only
    api = createApi(mesh.nodes[0]!, { host: '0.0.0.0', token, rateLimit: 0, verifyWorkers: 0 })
    server = createServer(api.handler)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    tokenHome = join(root.dir, 'token-home')
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    session = await connectMcp({ main: built.main, home: tokenHome, server: url })
    expect((await session.call('meshsig_init')).isError).toBe(false)
  })
  afterAll(async () => {
    await session?.close()
    await new Promise((resolve) => server?.close(resolve))
    await api?.close()
  })

  it('with a token the node does not hold, revoke stops (NODE_UNPROVEN); with the node’s in $MESHSIG_HOME/api-token it works', async () => {
    const gamma = await register(0, 'gamma', 'analysis')
    // meshsig_init wrote a token of its own: a node that cannot prove it holds it is not taken for the node
    // (decision 0055), whether it is another local user's listener or a node started with another home
    const refused = await session.call('meshsig_revoke', { did: gamma.did, reason: 'rotated out' })
    expect(refused.isError).toBe(true)
    expect(refused.data).toMatchObject({ code: 'NODE_UNPROVEN' })
    expect(refused.data.revoked).not.toBe(true)
    expect((await session.call('meshsig_agents')).data.code).toBe('NODE_UNPROVEN')
    expect((await mesh.call(0, 'GET', `/keys/${gamma.did}`)).body.revoked).toBe(false)
    // no token at all: the node's own refusal (UNAUTHORIZED) for lack of proof
    rmSync(join(tokenHome, 'api-token'))
    const anonymous = await session.call('meshsig_revoke', { did: gamma.did, reason: 'rotated out' })
    expect(anonymous.data).toMatchObject({ code: 'UNAUTHORIZED', revoked: false })
    expect((await mesh.call(0, 'GET', `/keys/${gamma.did}`)).body.revoked).toBe(false)
    writeFileSync(join(tokenHome, 'api-token'), token + '\n', { mode: 0o600 })
    const done = await session.call('meshsig_revoke', { did: gamma.did, reason: 'rotated out' })
    expect(done.isError).toBe(false)
    expect(done.data).toMatchObject({ revoked: true, did: gamma.did })
    expect((await session.call('meshsig_agents')).isError).toBe(false)
  })

  it('no tool output ever held a private key or the API token', () => {
    expect(registered).toHaveLength(4)
    secretScan([home, tokenHome], [token])
  })
})

/** Assert that no answer of any session held a private key (b64 or hex) or an API token. */
function secretScan(homes: readonly string[], extra: readonly string[] = []): void {
  const seeds = registered.map((a) => a.privateKey)
  const tokens = [...extra]
  for (const h of homes) {
    const file = JSON.parse(readFileSync(join(h, 'identity.json'), 'utf8')) as Record<string, string>
    seeds.push(file.privateKey!, file.nextPrivateKey!)
    tokens.push(readFileSync(join(h, 'api-token'), 'utf8').trim())
  }
  const all = transcript.join('\n')
  for (const secret of [...seeds, ...seeds.map((s) => toHex(fromB64(s))), ...tokens]) {
    expect(all).not.toContain(secret)
  }
}
