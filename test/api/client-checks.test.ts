// What MeshsigClient checks itself in a node's answers (api/client-checks.ts): the key of GET /keys/:did
// is the one the answer's own signed key events prove, a plain signature under a key the caller names is
// verified here too, and answers are read within their bounds. Against fake servers that answer one JSON.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import {
  DEFAULT_LIST_BYTES,
  MeshsigClient,
  createInception,
  createRotation,
  didKeyFromPublicKey,
  generateKeyPair,
  replayKeyEvents,
  sign,
  toB64,
} from '../../node/index.js'

const servers: Server[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections()
    await new Promise((r) => s.close(r))
  }
})

/** A server answering `body` (JSON) to everything. */
async function answering(body: unknown): Promise<MeshsigClient> {
  const server = createServer((req, res) => {
    req.resume()
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  })
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return new MeshsigClient({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, maxListBytes: 1024 })
}

const k0 = generateKeyPair()
const k1 = generateKeyPair()
const k2 = generateKeyPair()
const mallory = generateKeyPair()
const icp = createInception(k0, 1_000, k1)
const did = icp.did
const rot = createRotation(replayKeyEvents([icp]), k0, k1, 2_000, k2)
const view = (over: Record<string, unknown>): Record<string, unknown> => ({
  did,
  known: true,
  source: 'key-event-log',
  publicKey: toB64(k1.publicKey),
  keySeq: 1,
  lastId: 'x',
  next: null,
  priorKeys: [],
  revoked: false,
  revocation: null,
  duplicity: [],
  keyEvents: [icp, rot],
  ...over,
})
const code = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => 'taken',
    (e: { code?: string }) => e.code,
  )

describe('MeshsigClient.keyState: the key its signed events prove', () => {
  it('a true log: the replayed key, seq, next and prior keys (not the server’s fields)', async () => {
    const k = await (await answering(view({ priorKeys: ['made-up'], keySeq: 9 }))).keyState(did)
    const state = replayKeyEvents([icp, rot])
    expect(k).toMatchObject({ did, publicKey: toB64(k1.publicKey), keySeq: 1, lastId: state.lastId })
    expect(k.priorKeys).toEqual([toB64(k0.publicKey)])
    expect(k.next).toBe(state.next)
  })

  it('a log cut short proves the earlier key: taken (a server can hide later events, not name a key)', async () => {
    const k = await (await answering(view({ publicKey: toB64(k0.publicKey), keyEvents: [icp] }))).keyState(did)
    expect(k.publicKey).toBe(toB64(k0.publicKey))
  })

  it('refuses a true log under another key, a log of another DID, an answer about another DID', async () => {
    expect(await code((await answering(view({ publicKey: toB64(mallory.publicKey) }))).keyState(did))).toBe(
      'KEL_INVALID',
    )
    const other = createInception(mallory, 1_000)
    const foreign = view({ did: other.did, publicKey: toB64(mallory.publicKey), keyEvents: [other] })
    expect(await code((await answering(foreign)).keyState(did))).toBe('KEL_INVALID')
    expect(await code((await answering(view({ keyEvents: [other] }))).keyState(did))).toBe('KEL_INVALID')
    expect(await code((await answering(view({ keyEvents: undefined }))).keyState(did))).toBe('KEL_INVALID')
  })

  it('no log known: only the key the DID names (also asked by did:key)', async () => {
    const none = { known: false, source: 'did', keySeq: null, lastId: null, keyEvents: [] }
    const fresh = await answering(view({ ...none, publicKey: toB64(k0.publicKey) }))
    expect((await fresh.keyState(didKeyFromPublicKey(k0.publicKey))).publicKey).toBe(toB64(k0.publicKey))
    const lying = await answering(view({ ...none, publicKey: toB64(mallory.publicKey) }))
    expect(await code(lying.keyState(did))).toBe('KEL_INVALID')
  })
})

describe('MeshsigClient.verify: a key the caller names is checked here too', () => {
  const answer = {
    valid: true,
    message: 'm',
    signer: 'x',
    did,
    publicKey: null,
    keySource: 'public-key',
    verifiedAt: '',
  }

  it('a true signature the server calls valid stays valid; a false one is not, whatever it says', async () => {
    const node = await answering(answer)
    const good = await sign('m', toB64(k0.seed))
    expect((await node.verify({ message: 'm', signature: good, publicKey: toB64(k0.publicKey) })).valid).toBe(true)
    const bad = await node.verify({ message: 'm', signature: good, signer: didKeyFromPublicKey(k1.publicKey) })
    expect(bad).toMatchObject({ valid: false, code: 'SIGNATURE_INVALID' })
  })

  it('a server stricter than the key (ROTATED_KEY) is believed; a did:msig is the server’s word', async () => {
    const rotated = await answering({ ...answer, valid: false, code: 'ROTATED_KEY' })
    const good = await sign('m', toB64(k0.seed))
    expect((await rotated.verify({ message: 'm', signature: good, publicKey: toB64(k0.publicKey) })).valid).toBe(false)
    const word = await answering(answer)
    expect((await word.verify({ message: 'm', signature: toB64(new Uint8Array(64)), did })).valid).toBe(true)
  })
})

describe('answers read within their bound', () => {
  it('a list past maxListBytes is PEER_ERROR; a fixed shape within 4 MiB is read', async () => {
    const node = await answering({ agents: Array.from({ length: 100 }, (_, i) => ({ name: `a${i}` })), total: 100 })
    expect(await code(node.agents())).toBe('PEER_ERROR')
    expect(await code(node.stats())).toBe('taken')
  })

  it('by default a list announced past the longest parsable answer is PEER_ERROR before a byte of it is read', async () => {
    let bodyBytesSent = 0
    const server = createServer((req, res) => {
      req.resume()
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(DEFAULT_LIST_BYTES + 1) })
      res.write('{"agents":[') // then nothing: a client that waits for the rest never answers
      bodyBytesSent += 11
    })
    servers.push(server)
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const node = new MeshsigClient({
      server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      timeoutMs: 30_000,
    })
    const err = await node.agents().catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'PEER_ERROR', details: { maxBytes: DEFAULT_LIST_BYTES } })
    expect(bodyBytesSent).toBe(11)
    expect(DEFAULT_LIST_BYTES).toBeLessThan(Infinity)
  })
})
