import { readFileSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromB64, toHex, utf8 } from '../../node/core/encoding.js'
import { didFromPublicKey } from '../../node/core/did.js'
import { ERROR_TABLE } from '../../node/core/errors.js'
import { generateKeyPair, verifySignature } from '../../node/core/keys.js'
import type { BuiltCli } from '../cli/build-cli.js'
import { tempDir } from '../helpers/mesh.js'
import { buildMcp, connectMcp, transcript, type McpSession } from './mcp-fixture.js'

const TOOL_NAMES = [
  'meshsig_init',
  'meshsig_sign',
  'meshsig_verify',
  'meshsig_identity',
  'meshsig_agents',
  'meshsig_stats',
  'meshsig_audit',
  'meshsig_revoke',
  'meshsig_revoked',
]

let built: BuiltCli
let root: { dir: string; cleanup: () => void }
let home: string
let mcp: McpSession
let deadServer: string
/** Every secret that was ever in the home folder: private keys and API tokens. */
const secrets: string[] = []

/** A URL where nothing listens: a port the OS handed out, closed again. */
async function closedPortUrl(): Promise<string> {
  const srv = createServer()
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const { port } = srv.address() as { port: number }
  await new Promise<void>((resolve) => srv.close(() => resolve()))
  return `http://127.0.0.1:${port}`
}

function identityFile(): Record<string, string> {
  return JSON.parse(readFileSync(join(home, 'identity.json'), 'utf8')) as Record<string, string>
}

/** Remember the home's private keys and token (b64 and hex) for the final scan. */
function collectSecrets(): void {
  const file = identityFile()
  for (const seed of [file.privateKey!, file.nextPrivateKey!]) secrets.push(seed, toHex(fromB64(seed)))
  secrets.push(readFileSync(join(home, 'api-token'), 'utf8').trim())
}

beforeAll(async () => {
  built = buildMcp()
  root = tempDir('meshsig-mcp-')
  home = join(root.dir, 'home')
  deadServer = await closedPortUrl()
  mcp = await connectMcp({ main: built.main, home, server: deadServer })
})

afterAll(async () => {
  await mcp?.close()
  built?.cleanup()
  root?.cleanup()
})

describe('meshsig-mcp over stdio: the tool list', () => {
  it('lists exactly the nine tools, each with a description and a strict input schema', async () => {
    const tools = await mcp.listTools()
    expect(tools.map((t) => t.name)).toEqual(TOOL_NAMES)
    for (const t of tools) {
      expect(t.description?.length, t.name).toBeGreaterThan(40)
      expect(t.inputSchema.type, t.name).toBe('object')
      expect(t.inputSchema.additionalProperties, t.name).toBe(false)
    }
    const byName = new Map(tools.map((t) => [t.name, t.inputSchema]))
    // no force: a model never replaces an identity (review 92 F6, decision 0063)
    expect(byName.get('meshsig_init')!.properties ?? {}).toEqual({})
    expect(byName.get('meshsig_sign')!.required).toEqual(['message'])
    expect(byName.get('meshsig_verify')!.required).toEqual(['message', 'signature', 'signer'])
    expect(Object.keys(byName.get('meshsig_revoke')!.properties ?? {})).toEqual(['did', 'reason'])
    expect(byName.get('meshsig_revoke')!.required).toEqual(['did'])
    for (const name of ['meshsig_identity', 'meshsig_stats', 'meshsig_audit']) {
      expect(byName.get(name)!.properties ?? {}, name).toEqual({})
    }
    // a page at a time (review 92 F2)
    const listInput = ['capability', 'status', 'origin', 'limit', 'cursor']
    expect(Object.keys(byName.get('meshsig_agents')!.properties ?? {})).toEqual(listInput)
    expect(Object.keys(byName.get('meshsig_revoked')!.properties ?? {})).toEqual(['limit', 'cursor'])
    for (const name of ['meshsig_agents', 'meshsig_revoked']) expect(byName.get(name)!.required ?? [], name).toEqual([])
    expect(tools.find((t) => t.name === 'meshsig_revoke')!.annotations?.destructiveHint).toBe(true)
    expect(tools.find((t) => t.name === 'meshsig_agents')!.annotations?.readOnlyHint).toBe(true)
  })
})

describe('meshsig-mcp over stdio: the identity tools', () => {
  it('identity and sign before init: NO_IDENTITY, as an error result', async () => {
    for (const [name, args] of [
      ['meshsig_identity', {}],
      ['meshsig_sign', { message: 'hello' }],
    ] as const) {
      const r = await mcp.call(name, args)
      expect(r.isError, name).toBe(true)
      expect(r.data, name).toMatchObject({ code: 'NO_IDENTITY' })
      expect(r.data.error, name).toContain('meshsig_init')
    }
  })

  it('init creates the identity (0600 in a 0700 folder) and returns no private key', async () => {
    const r = await mcp.call('meshsig_init')
    expect(r.isError).toBe(false)
    collectSecrets()
    const file = identityFile()
    expect(statSync(home).mode & 0o777).toBe(0o700)
    expect(statSync(join(home, 'identity.json')).mode & 0o777).toBe(0o600)
    expect(statSync(join(home, 'api-token')).mode & 0o777).toBe(0o600)
    expect(r.data).toMatchObject({ did: file.did, publicKey: file.publicKey })
    expect(r.data.path).toBe(join(home, 'identity.json'))
    expect(r.text).toContain(file.did)
    expect(JSON.stringify(r.raw)).not.toContain(file.privateKey)
  })

  it('init never replaces an identity: ALREADY_EXISTS, and force is no argument of the tool (nothing changes)', async () => {
    const before = readFileSync(join(home, 'identity.json'), 'utf8')
    const refused = await mcp.call('meshsig_init', {})
    expect(refused.isError).toBe(true)
    expect(refused.data).toMatchObject({ code: 'ALREADY_EXISTS' })
    expect(refused.data.error).toContain('no tool replaces it')
    const forced = await mcp.call('meshsig_init', { force: true })
    expect(forced.isError).toBe(true)
    expect(forced.data).toMatchObject({ code: 'INVALID_INPUT' })
    expect(readFileSync(join(home, 'identity.json'), 'utf8')).toBe(before)
    expect(statSync(join(home, 'identity.json')).mode & 0o777).toBe(0o600)
  })

  it('identity shows did, didKey, peerId and publicKey of the file', async () => {
    const r = await mcp.call('meshsig_identity')
    const file = identityFile()
    expect(r.isError).toBe(false)
    expect(r.data).toEqual({
      did: file.did,
      didKey: expect.stringMatching(/^did:key:z6Mk/),
      peerId: expect.stringMatching(/^12D3KooW/),
      publicKey: file.publicKey,
      createdAt: file.createdAt,
    })
    for (const v of [r.data.did, r.data.didKey, r.data.peerId, r.data.publicKey]) expect(r.text).toContain(v)
  })
})

describe('meshsig-mcp over stdio: sign and verify', () => {
  it('sign → verify round trip under the b64 key, the did:key and the did:msig; tampered → valid false', async () => {
    const id = (await mcp.call('meshsig_identity')).data
    const message = 'Deploy the new model to production — ✓ ünïcode'
    const signed = await mcp.call('meshsig_sign', { message })
    expect(signed.isError).toBe(false)
    expect(signed.data).toMatchObject({ did: id.did, publicKey: id.publicKey })
    const { signature } = signed.data as { signature: string }
    expect(verifySignature(utf8(message), fromB64(signature), fromB64(id.publicKey))).toBe(true)
    for (const signer of [id.publicKey, id.didKey, id.did]) {
      const ok = await mcp.call('meshsig_verify', { message, signature, signer })
      expect([ok.isError, ok.data.valid], signer).toEqual([false, true])
      expect(ok.text, signer).toContain('SIGNATURE VALID')
      const bad = await mcp.call('meshsig_verify', { message: message + '!', signature, signer })
      expect([bad.isError, bad.data.valid, bad.data.code], signer).toEqual([false, false, 'SIGNATURE_INVALID'])
    }
    const flipped = Buffer.from(fromB64(signature))
    flipped[0]! ^= 1
    const bad = await mcp.call('meshsig_verify', { message, signature: flipped.toString('base64'), signer: id.did })
    expect(bad.data.valid).toBe(false)
  })

  it('a did:msig with no node answering is checked against its inception key, and the answer says so', async () => {
    const id = (await mcp.call('meshsig_identity')).data
    const { signature } = (await mcp.call('meshsig_sign', { message: 'offline' })).data
    const r = await mcp.call('meshsig_verify', { message: 'offline', signature, signer: id.did })
    expect(r.data).toMatchObject({ valid: true, keySource: 'did:msig inception key (offline)' })
    expect(r.data.note).toMatch(/fell back offline.*inception key/)
    expect(r.text).toContain('inception key')
  })

  it('"-" is signed as the text "-" (there is no stdin to read)', async () => {
    const id = (await mcp.call('meshsig_identity')).data
    const { signature } = (await mcp.call('meshsig_sign', { message: '-' })).data
    expect(verifySignature(utf8('-'), fromB64(signature), fromB64(id.publicKey))).toBe(true)
    const r = await mcp.call('meshsig_verify', { message: '-', signature, signer: id.publicKey })
    expect(r.data.valid).toBe(true)
  })

  it('malformed signatures and signers are error results with a meshsig code', async () => {
    const id = (await mcp.call('meshsig_identity')).data
    for (const args of [
      { message: 'x', signature: 'not base64!', signer: id.did },
      { message: 'x', signature: Buffer.alloc(10).toString('base64'), signer: id.did },
      { message: 'x', signature: Buffer.alloc(64).toString('base64'), signer: 'did:web:example.com' },
    ]) {
      const r = await mcp.call('meshsig_verify', args)
      expect(r.isError, JSON.stringify(args)).toBe(true)
      expect(Object.keys(ERROR_TABLE)).toContain(r.data.code)
      expect(r.data.code).not.toBe('INTERNAL')
      expect(r.text).not.toMatch(/\n\s+at /)
    }
  })
})

describe('meshsig-mcp over stdio: bad calls and an unreachable node', () => {
  it('unknown fields, wrong types and missing fields are refused with INVALID_INPUT; unknown tools NOT_FOUND', async () => {
    const calls: Array<[string, Record<string, unknown>]> = [
      ['meshsig_sign', { message: 'hi', privateKey: 'x' }],
      ['meshsig_identity', { verbose: true }],
      ['meshsig_init', { force: 'yes' }],
      ['meshsig_verify', { message: 'hi', signature: 'abc' }],
      ['meshsig_revoke', { reason: 'no did' }],
      ['meshsig_agents', { limit: 'all' }],
      ['meshsig_revoked', { capability: 'analysis' }],
    ]
    for (const [name, args] of calls) {
      const r = await mcp.call(name, args)
      expect(r.isError, name).toBe(true)
      expect(r.data, name).toMatchObject({ code: 'INVALID_INPUT', error: expect.stringContaining(name) })
    }
    const unknown = await mcp.call('meshsig_delete_everything', {})
    expect(unknown.isError).toBe(true)
    expect(unknown.data.code).toBe('NOT_FOUND')
  })

  it('every node tool answers UNREACHABLE when no node answers, and the server keeps serving', async () => {
    const id = (await mcp.call('meshsig_identity')).data
    const calls: Array<[string, Record<string, unknown>]> = [
      ['meshsig_agents', {}],
      ['meshsig_stats', {}],
      ['meshsig_audit', {}],
      ['meshsig_revoked', {}],
      ['meshsig_revoke', { did: didFromPublicKey(generateKeyPair().publicKey), reason: 'test' }],
    ]
    for (const [name, args] of calls) {
      const r = await mcp.call(name, args)
      expect(r.isError, name).toBe(true)
      expect(r.data, name).toMatchObject({ code: 'UNREACHABLE', error: expect.stringContaining(deadServer) })
    }
    // the home's own identity is refused before any node is asked (decision 0077)
    const own = await mcp.call('meshsig_revoke', { did: id.did, reason: 'test' })
    expect(own.isError).toBe(true)
    expect(own.data).toMatchObject({ code: 'FORBIDDEN', revoked: false, did: id.did })
    expect(own.data.error).toContain('meshsig revoke <DID> --own-identity')
    expect((await mcp.call('meshsig_identity')).isError).toBe(false)
    expect(identityFile().keyLog).toHaveLength(1)
  })

  it('no tool output ever held a private key or the API token', () => {
    expect(secrets.length).toBe(5) // one identity: no tool replaces it
    const all = transcript.join('\n')
    expect(transcript.length).toBeGreaterThan(30)
    for (const secret of secrets) expect(all).not.toContain(secret)
    expect(mcp.stderr()).not.toMatch(/\n\s+at /)
  })
})
