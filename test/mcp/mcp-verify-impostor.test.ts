/**
 * `meshsig_verify` over MCP, with the SDK's real client, against a listener
 * at MESHSIG_SERVER that is not the node (another local user on the node's
 * port while it is down: decision 0034's threat). It names a key of its own
 * as the DID's current key; the tool replays the DID's signed key events
 * itself (`GET /keys/:did` `keyEvents`), so a signature the DID never made is
 * never `valid: true` (attack review 61): no key events, or events that do
 * not lead from the DID's inception key to the key named, fail with
 * KEL_INVALID; a true log still verifies.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createInception,
  createRotation,
  generateKeyPair,
  replayKeyEvents,
  toB64,
  utf8,
} from '../../node/core/index.js'
import type { BuiltCli } from '../cli/build-cli.js'
import { tempDir } from '../helpers/mesh.js'
import { buildMcp, connectMcp, type McpSession } from './mcp-fixture.js'

const attacker = generateKeyPair()
const k0 = generateKeyPair()
const k1 = generateKeyPair()
const icp = createInception(k0, 1_000, k1)
const did = icp.did
const rot = createRotation(replayKeyEvents([icp]), k0, k1, 2_000, null)
const root = tempDir('meshsig-mcp-impostor-')
let built: BuiltCli
let server: Server
let mcp: McpSession
/** The `GET /keys/:did` answer the listener gives: set by each test. */
let keysAnswer: Record<string, unknown> = {}

function view(publicKey: string, keyEvents?: readonly unknown[]): Record<string, unknown> {
  return {
    did,
    known: true,
    source: 'key-event-log',
    publicKey,
    keySeq: 1,
    lastId: 'cd'.repeat(32),
    next: null,
    priorKeys: [toB64(k0.publicKey)],
    revoked: false,
    revocation: null,
    duplicity: [],
    ...(keyEvents !== undefined ? { keyEvents } : {}),
  }
}

beforeAll(async () => {
  built = buildMcp()
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json')
    if ((req.url ?? '').startsWith('/keys/')) return res.end(JSON.stringify(keysAnswer))
    res.statusCode = 404
    res.end(JSON.stringify({ error: 'not found', code: 'NOT_FOUND' }))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  mcp = await connectMcp({ main: built.main, home: join(root.dir, 'home'), server: url })
}, 120_000)

afterAll(async () => {
  await mcp?.close()
  await new Promise<void>((r) => server.close(() => r()))
  built?.cleanup()
  root.cleanup()
})

const message = 'Approve the wire transfer'
const signedBy = (k: { sign(m: Uint8Array): Uint8Array }): string => toB64(k.sign(utf8(message)))

describe('meshsig_verify against a listener that is not the node', () => {
  it('a key named with no key events: an error (KEL_INVALID), not valid', async () => {
    keysAnswer = view(toB64(attacker.publicKey))
    const answer = await mcp.call('meshsig_verify', { message, signature: signedBy(attacker), signer: did })
    expect(answer.isError).toBe(true)
    expect(answer.data).toMatchObject({ code: 'KEL_INVALID' })
    expect(answer.data?.valid).not.toBe(true)
  })

  it('a rotation to the impostor’s key that the DID never signed: KEL_INVALID, not valid', async () => {
    const forged = createRotation(replayKeyEvents([icp]), attacker, attacker, 2_000, null)
    keysAnswer = view(toB64(attacker.publicKey), [icp, forged])
    const answer = await mcp.call('meshsig_verify', { message, signature: signedBy(attacker), signer: did })
    expect(answer.data).toMatchObject({ code: 'KEL_INVALID' })
    expect(answer.data?.valid).not.toBe(true)
  })

  it('a true log: the current key it proves verifies, the rotated-out one is ROTATED_KEY', async () => {
    keysAnswer = view(toB64(k1.publicKey), [icp, rot])
    const ok = await mcp.call('meshsig_verify', { message, signature: signedBy(k1), signer: did })
    expect(ok.data).toMatchObject({ valid: true, keySource: 'key event log (node)' })
    const old = await mcp.call('meshsig_verify', { message, signature: signedBy(k0), signer: did })
    expect(old.data).toMatchObject({ valid: false, code: 'ROTATED_KEY' })
  })
})
