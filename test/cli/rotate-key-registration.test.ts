/**
 * `meshsig rotate-key --did D --private-key-file F --next-private-key-file G` holds the new key, so it signs
 * the registration the node holds of D again with it and sends it with the rotation (decision 0070): a node
 * that meets D only after the rotation then takes a registration naming D's controller, and can check that
 * controller's revocation (review 99: without it, every joiner refused the revocation and charged the honest
 * node that served it). Only a registration a key of D signed is signed again: the server may not be the node
 * (decision 0034), and one it made up would name a controller of its choosing.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rotateKeyCommand } from '../../cli/commands/rotate-key.js'
import { contextFrom, type CliIo } from '../../cli/context.js'
import {
  createInception,
  createRegistration,
  didFromPublicKey,
  generateKeyPair,
  replayKeyEvents,
  toB64,
  verifyEnvelopeSignature,
  type KeyPair,
  type RegEnvelope,
} from '../../node/core/index.js'
import { startApi, type ApiFixture } from '../api/api-fixture.js'
import { tempDir } from '../helpers/mesh.js'
import { quietIo, writeKeyFile } from './rotate-key-io.js'

const root = tempDir('meshsig-rotate-registration-')
/** The PeerId a made-up registration names (any node's). */
const ROGUE_PEER_ID = '12D3KooWQK1wnefoLrcVHbbnf5tLzbopUd3K3bFAoJpA7YJgL5pV'

const io = (server: string): CliIo => quietIo(root.dir, server)

const keyFile = (name: string, key: KeyPair): string => writeKeyFile(root.dir, name, key)

/** An agent with its own keys (a committed next key), its inception, and a registration naming `node`. */
function ownAgent(node: { did: string; peerId: string }, name: string) {
  const key = generateKeyPair()
  const next = generateKeyPair()
  const icp = createInception(key, Date.now(), next)
  const init = { did: icp.did, name, capabilities: [{ type: 'pay' }], ts: Date.now() }
  const reg = createRegistration({ ...init, controller: node.did, peerId: node.peerId }, key)
  return { key, next, icp, reg, did: icp.did }
}

afterAll(() => root.cleanup())

describe('rotate-key --did with both keys at the real node', () => {
  let fx: ApiFixture
  beforeAll(async () => {
    fx = await startApi()
  })
  afterAll(() => fx.stop())

  it('sends the held registration signed again with the new key; the node then holds it', async () => {
    const a = ownAgent(fx.node.info(), 'own-key')
    const registered = await fx.call('POST', '/agents/register', {
      name: 'own-key',
      publicKey: a.icp.key,
      proof: { icp: a.icp, reg: a.reg },
    })
    expect(registered.status).toBe(201)
    const ctx = contextFrom({}, io(fx.url))
    const r = await rotateKeyCommand(ctx, {
      did: a.did,
      privateKeyFile: keyFile('own.key', a.key),
      nextPrivateKeyFile: keyFile('own.next', a.next),
    })
    expect(r.exitCode ?? 0).toBe(0)
    expect(r.json).toMatchObject({ rotated: true, keySeq: 1, custodied: false, registration: true })
    const held = JSON.parse(fx.node.store.agents.get(a.did)!.regEnvelope) as RegEnvelope
    expect(() => verifyEnvelopeSignature(held, a.next.publicKey)).not.toThrow()
    const { name, capabilities, controller, peerId } = a.reg
    expect(held).toMatchObject({ name, capabilities, controller, peerId })
  })
})

describe('rotate-key --did with both keys at a server that is not the node', () => {
  let impostor: Server
  let url = ''
  const posted: Record<string, unknown>[] = []
  const victim = { key: generateKeyPair(), next: generateKeyPair() }
  const icp = createInception(victim.key, 1_000, victim.next)
  // a registration naming the impostor's controller, signed by a key that is not the victim's
  const controller = didFromPublicKey(generateKeyPair().publicKey)
  const init = { did: icp.did, name: 'victim', capabilities: [], controller, peerId: ROGUE_PEER_ID, ts: 2_000 }
  const madeUp = createRegistration(init, generateKeyPair())

  function keysAnswer(): unknown {
    const state = replayKeyEvents([icp])
    return {
      did: icp.did,
      known: true,
      source: 'key-event-log',
      publicKey: icp.key,
      keySeq: 0,
      lastId: state.lastId,
      next: state.next,
      priorKeys: [],
      revoked: false,
      revocation: null,
      duplicity: [],
      keyEvents: [icp],
      registration: madeUp,
    }
  }

  beforeAll(async () => {
    impostor = createServer((req, res) => {
      void read(req).then((body) => {
        if (req.method === 'POST') posted.push(JSON.parse(body) as Record<string, unknown>)
        const answer = req.url?.startsWith('/keys/') ? keysAnswer() : req.method === 'POST' ? rotated() : undefined
        res.setHeader('content-type', 'application/json')
        res.statusCode = answer === undefined ? 404 : 200
        res.end(JSON.stringify(answer ?? { error: 'not found', code: 'NOT_FOUND' }))
      })
    })
    await new Promise<void>((r) => impostor.listen(0, '127.0.0.1', r))
    url = `http://127.0.0.1:${(impostor.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((r) => impostor.close(() => r())))

  function rotated(): unknown {
    const publicKey = toB64(victim.next.publicKey)
    return { rotated: true, did: icp.did, publicKey, previousPublicKey: icp.key, keySeq: 1, custodied: false }
  }

  it('signs no registration it cannot check under the agent’s keys: the rotation goes alone, and says so', async () => {
    const ctx = contextFrom({}, io(url))
    const r = await rotateKeyCommand(ctx, {
      did: icp.did,
      privateKeyFile: keyFile('victim.key', victim.key),
      nextPrivateKeyFile: keyFile('victim.next', victim.next),
    })
    expect(posted).toHaveLength(1)
    expect(Object.keys(posted[0]!).sort()).toEqual(['did', 'envelope'])
    expect(r.json).toMatchObject({ registration: false })
    expect(r.human).toContain('register again under the new key')
  })
})

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = ''
    req.on('data', (d: Buffer) => (s += d.toString('utf8')))
    req.on('end', () => resolve(s))
  })
}
