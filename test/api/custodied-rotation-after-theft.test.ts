/**
 * A thief holding a custodied agent's current key (the `privateKey` that `POST /agents/register` answers
 * once) signs a registration naming a controller, a PeerId, a name and capabilities of its own, and the mesh
 * carries it here. The owner then does what docs/SECURITY.md says: rotates with the agent credential. The
 * registration the node signs with the new key must be the node's own (decision 0057): this node as
 * controller, its PeerId, the name and capabilities it registered the agent with. Before, the node re-signed
 * the thief's registration under the new key and gossiped it: the thief's controller key then revoked the
 * agent after the rotation (review 81, F1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectNo500, startApi, type ApiFixture } from './api-fixture.js'
import {
  createRegistration,
  createRevocation,
  didFromPublicKey,
  generateKeyPair,
  keyPairFromB64,
  peerIdFromPublicKey,
  type KeyState,
} from '../../node/core/index.js'

describe('a custodied agent rotated after its key was stolen is the node’s own again', () => {
  let fx: ApiFixture
  beforeAll(async () => {
    fx = await startApi()
  })
  afterAll(async () => {
    expectNo500(fx)
    await fx.stop()
  })

  it('the new key signs the name, capabilities, controller and PeerId the node gave it; the thief’s controller key revokes nothing', async () => {
    const reg = await fx.anon('POST', '/agents/register', { name: 'victim', capabilities: [{ type: 'pay' }] })
    expect(reg.status).toBe(201)
    const { did, privateKey, credential } = reg.body.identity as { did: string; privateKey: string; credential: string }
    const nodeDid = fx.node.info().did
    const before = (await fx.anon('GET', `/agents/${did}`)).body as { peerId: string }

    const stolen = keyPairFromB64(privateKey)
    const thief = generateKeyPair()
    const planted = createRegistration(
      {
        did,
        name: 'victim (moved)',
        capabilities: [{ type: 'pay' }, { type: 'admin' }],
        controller: didFromPublicKey(thief.publicKey),
        peerId: peerIdFromPublicKey(thief.publicKey),
        ts: Date.now() + 1,
      },
      stolen,
    )
    // as a rogue peer's gossip arrives: the acceptance rules take it (the current key signed it)
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the node's ingest, as gossip reaches it
    const taken = (fx.node as any).parts.ingest.ingest(planted, { kind: 'gossip', peer: 'rogue' }, { fresh: true })
    expect(taken.ok).toBe(true)
    expect((await fx.anon('GET', `/agents/${did}`)).body).toMatchObject({ name: 'victim (moved)' })

    const rot = await fx.anon('POST', '/agents/rotate-key', { did }, { authorization: `Bearer ${credential}` })
    expect(rot.status).toBe(200)
    // the registration now held (and gossiped): signed by the new key, the node's own
    const after = (await fx.anon('GET', `/agents/${did}`)).body as Record<string, unknown>
    expect(after).toMatchObject({
      did,
      name: 'victim',
      capabilities: [{ type: 'pay' }],
      originServer: nodeDid,
      peerId: before.peerId,
      keySeq: 1,
    })
    expect(rot.body.record).toMatchObject({ name: 'victim', originServer: nodeDid, capabilities: [{ type: 'pay' }] })

    const keys = (await fx.anon('GET', `/keys/${did}`)).body as { keySeq: number; lastId: string }
    const state = { did, seq: keys.keySeq, lastId: keys.lastId } as KeyState
    const revoked = await fx.anon('POST', '/agents/revoke', {
      envelope: createRevocation(state, thief, 'gotcha', Date.now()),
    })
    expect(revoked.status).toBeGreaterThanOrEqual(400)
    expect((await fx.anon('GET', `/keys/${did}`)).body).toMatchObject({ revoked: false, keySeq: 1 })
  })
})
