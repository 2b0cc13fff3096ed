/**
 * A thief with a custodied agent's current key spends the agent's renewal budget at another node B (ten
 * registrations of the DID from the mesh within the window, limits.registry.renewalsPerDid). The owner rotates
 * at the custodian A, which re-signs the agent's registration under the new key (decision 0057). The first
 * registration under the new key follows a rotation and is no renewal: B takes it whatever the budget says, and
 * with it A as controller, so the thief's controller key revokes nothing at B. Before, B refused it as
 * RATE_LIMITED and kept the thief's registration (review 86, F2). A second one under the new key is charged.
 */
import { afterAll, expect, it } from 'vitest'
import { startApi, type ApiFixture } from '../api/api-fixture.js'
import {
  createRegistration,
  createRevocation,
  didFromPublicKey,
  generateKeyPair,
  keyPairFromB64,
  peerIdFromPublicKey,
  type Envelope,
} from '../../node/core/index.js'

const started: ApiFixture[] = []
afterAll(async () => {
  for (const f of started) await f.stop()
})
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the nodes' store and ingest, as the mesh reaches them
const partsOf = (fx: ApiFixture): any => (fx.node as any).parts

it('a registration under the rotated key passes a renewal budget the thief spent with the old one', async () => {
  const [a, b] = [await startApi(), await startApi()]
  started.push(a, b)
  const [A, B] = [partsOf(a), partsOf(b)]
  const gossip = { kind: 'gossip', peer: 'relay' }
  const take = (e: Envelope): { ok: boolean; error?: { code: string } } => B.ingest.ingest(e, gossip, { fresh: true })
  const reg = await a.anon('POST', '/agents/register', { name: 'victim', capabilities: [{ type: 'pay' }] })
  expect(reg.status).toBe(201)
  const { did, privateKey, credential } = reg.body.identity as { did: string; privateKey: string; credential: string }
  for (const e of A.store.keyEvents.log(did)) expect(take(e).ok).toBe(true)
  expect(take(JSON.parse(A.store.agents.get(did).regEnvelope)).ok).toBe(true)

  const stolen = keyPairFromB64(privateKey)
  const thief = generateKeyPair()
  const thiefDid = didFromPublicKey(thief.publicKey)
  const planted = (ts: number) =>
    createRegistration(
      { did, name: 'moved', capabilities: [], controller: thiefDid, peerId: peerIdFromPublicKey(thief.publicKey), ts },
      stolen,
    )
  const t0 = Date.now()
  for (let i = 1; i <= 10; i++) expect(take(planted(t0 + i)).ok).toBe(true)
  expect(take(planted(t0 + 11))).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } }) // spent

  const rot = await a.anon('POST', '/agents/rotate-key', { did }, { authorization: `Bearer ${credential}` })
  expect(rot.status).toBe(200)
  const log = A.store.keyEvents.log(did) as Envelope[]
  expect(take(log[log.length - 1]!).ok).toBe(true)
  const resigned = JSON.parse(A.store.agents.get(did).regEnvelope) as Envelope & { ts: number }
  expect(take(resigned)).toMatchObject({ ok: true })
  expect(B.store.agents.get(did)).toMatchObject({ controller: a.node.info().did, name: 'victim' })

  const rev = createRevocation(B.store.keyEvents.state(did), thief, 'gotcha', Date.now())
  expect(take(rev).ok).toBe(false)
  expect(B.store.keyEvents.state(did).revoked).toBeFalsy()
  // the one after it is a renewal again, and the window is still spent
  const newKey = keyPairFromB64(rot.body.privateKey ?? A.store.custody.get(did).seed)
  const again = createRegistration({ ...resigned, ts: resigned.ts + 1 } as never, newKey)
  expect(take(again)).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } })
}, 60_000)
