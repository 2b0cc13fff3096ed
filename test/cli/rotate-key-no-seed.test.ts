/**
 * `meshsig rotate-key --did D --private-key-file F` (or `--private-key -`)
 * for an agent its node keeps the next key of sends no private key to the
 * server: the server may not be the node (another local user on the node's
 * port while it is down, decision 0034; a hostile URL). The CLI signs a
 * rotation request with the key (core/rotation-request.ts, decision 0047)
 * and only that travels; attack review 61 found the seed sent as
 * `currentPrivateKey` to whatever claimed to host D. Against a real node the
 * rotation works as before (the node rotates to the next key it keeps).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { rotateKeyCommand } from '../../cli/commands/rotate-key.js'
import { contextFrom, type CliIo } from '../../cli/context.js'
import {
  createInception,
  didFromPublicKey,
  generateKeyPair,
  keyPairFromB64,
  replayKeyEvents,
  toB64,
  type KeyPair,
} from '../../node/core/index.js'
import { startApi, type ApiFixture } from '../api/api-fixture.js'
import { tempDir } from '../helpers/mesh.js'
import { quietIo, writeKeyFile } from './rotate-key-io.js'

const root = tempDir('meshsig-rotate-no-seed-')
let impostor: Server
let impostorUrl = ''
const impostorSaw: string[] = []
const nodeDidClaimed = didFromPublicKey(generateKeyPair().publicKey)
const victim = generateKeyPair()
const victimDid = didFromPublicKey(victim.publicKey)
// the victim's true inception (public): the SDK's keyState takes no key its events do not prove (decision 0034's
// impostor must name the real log to get this far), and its last id is the prev of the request
const victimIcp = createInception(victim, 1_000, generateKeyPair())
const victimState = replayKeyEvents([victimIcp])

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = ''
    req.on('data', (d: Buffer) => (s += d.toString('utf8')))
    req.on('end', () => resolve(s))
  })
}

/** The answers a node would give about the victim: hosted here, committed to a next key. */
function impostorAnswer(url: string): unknown {
  if (url.startsWith('/keys/')) {
    return {
      did: victimDid,
      known: true,
      source: 'key-event-log',
      publicKey: toB64(victim.publicKey),
      keySeq: 0,
      lastId: victimState.lastId,
      next: victimState.next,
      priorKeys: [],
      revoked: false,
      revocation: null,
      duplicity: [],
      keyEvents: [victimIcp],
    }
  }
  if (url.startsWith('/agents/')) return { did: victimDid, origin: 'local', name: 'victim', status: 'active' }
  if (url === '/health') return { status: 'ok', name: 'node', did: nodeDidClaimed }
  return undefined
}

const io = (server: string): CliIo => quietIo(root.dir, server)

const keyFile = (name: string, key: KeyPair): string => writeKeyFile(root.dir, name, key)

beforeAll(async () => {
  impostor = createServer((req, res) => {
    void read(req).then((body) => {
      impostorSaw.push(`${req.method} ${req.url} ${body}`)
      const answer = req.method === 'GET' ? impostorAnswer(req.url ?? '') : undefined
      res.setHeader('content-type', 'application/json')
      res.statusCode = answer === undefined ? 404 : 200
      res.end(JSON.stringify(answer ?? { error: 'not found', code: 'NOT_FOUND' }))
    })
  })
  await new Promise<void>((r) => impostor.listen(0, '127.0.0.1', r))
  impostorUrl = `http://127.0.0.1:${(impostor.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise<void>((r) => impostor.close(() => r()))
  root.cleanup()
})

afterEach(() => {
  vi.restoreAllMocks()
})

describe('rotate-key --did with --private-key-file sends no private key', () => {
  it('to a server that is not the node: it gets a signed rotation request, never the seed', async () => {
    impostorSaw.length = 0
    const ctx = contextFrom({}, io(impostorUrl))
    await rotateKeyCommand(ctx, { did: victimDid, privateKeyFile: keyFile('victim.key', victim) }).catch(
      () => undefined,
    )
    const seed = toB64(victim.seed)
    expect(impostorSaw.filter((b) => b.includes(seed))).toEqual([])
    const posted = impostorSaw.filter((b) => b.startsWith('POST /agents/rotate-key '))
    expect(posted).toHaveLength(1)
    const body = JSON.parse(posted[0]!.slice('POST /agents/rotate-key '.length)) as Record<string, unknown>
    expect(Object.keys(body).sort()).toEqual(['did', 'keyProof'])
    expect(body.keyProof).toMatchObject({
      type: 'rotreq',
      did: victimDid,
      node: nodeDidClaimed,
      prev: victimState.lastId,
    })
  })

  describe('to the real node', () => {
    let fx: ApiFixture
    beforeAll(async () => {
      fx = await startApi()
    })
    afterAll(() => fx.stop())

    it('rotates an agent the node made to the next key it keeps; no request carries the seed', async () => {
      const identity = (await fx.call('POST', '/agents/register', { name: 'rotated-by-file' })).body.identity
      const key = keyPairFromB64(identity.privateKey)
      const sent: string[] = []
      const realFetch = globalThis.fetch
      vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
        sent.push(`${String(input)} ${typeof init?.body === 'string' ? init.body : ''}`)
        return realFetch(input, init)
      })
      const ctx = contextFrom({}, io(fx.url))
      const r = await rotateKeyCommand(ctx, { did: identity.did, privateKeyFile: keyFile('agent.key', key) })
      expect(r.exitCode ?? 0).toBe(0)
      expect(r.json).toMatchObject({ rotated: true, did: identity.did, keySeq: 1, custodied: true })
      expect(sent.some((s) => s.includes('/agents/rotate-key') && s.includes('"keyProof"'))).toBe(true)
      expect(sent.filter((s) => s.includes(toB64(key.seed)))).toEqual([])
      expect(fx.node.store.keyEvents.state(identity.did)!.priorKeys).toEqual([toB64(key.publicKey)])
    })

    it('a key that is not the current one: KEY_MISMATCH before anything is sent to rotate', async () => {
      const identity = (await fx.call('POST', '/agents/register', { name: 'wrong-key' })).body.identity
      const ctx = contextFrom({}, io(fx.url))
      const wrong = keyFile('wrong.key', generateKeyPair())
      await expect(rotateKeyCommand(ctx, { did: identity.did, privateKeyFile: wrong })).rejects.toMatchObject({
        code: 'KEY_MISMATCH',
      })
      expect(fx.node.store.keyEvents.state(identity.did)!.seq).toBe(0)
    })
  })
})
