/**
 * Real traffic for audit and trust tests: a node with its API (node A) and
 * a second node (B) on the mesh. Agents registered both ways, messages sent
 * all three ways and over gossip, a handshake, a key rotation, a revocation,
 * an on-demand checkpoint, and every kind of refusal: forged signatures
 * (not attributable), replays, stale times and rotated-out keys (attributable).
 */
import { randomBytes } from 'node:crypto'
import { expect } from 'vitest'
import { MeshsigClient } from '../../api/client.js'
import { createMessage, fromB64, generateKeyPair, keyPairFromSeed, type KeyPair } from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { startApi, type ApiFixture, type ApiResponse } from '../api/api-fixture.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { OPERATOR } from '../../node/services/authority.js'

/** The two nodes and the agents the traffic involved. */
export interface AuditScene {
  readonly fx: ApiFixture
  readonly b: MeshNode
  readonly client: MeshsigClient
  /** Custodied agents on node A. */
  readonly alice: string
  readonly bob: string
  /** An agent that keeps its own key (registered on A). */
  readonly carol: { did: string; key: KeyPair }
  /** An agent on node B whose messages reach A by gossip. */
  readonly dave: string
  stop(): Promise<void>
}

/** A fresh 16-byte nonce. */
export function nonce(): Uint8Array {
  return new Uint8Array(randomBytes(16))
}

/** POST through the fixture and check the status. */
export async function post(fx: ApiFixture, path: string, body: unknown, status = 200): Promise<ApiResponse['body']> {
  const r = await fx.call('POST', path, body)
  expect(r.status, `${path} ${JSON.stringify(r.body)}`).toBe(status)
  return r.body
}

async function register(fx: ApiFixture, name: string): Promise<{ did: string; privateKey: string }> {
  const body = await post(fx, '/agents/register', { name, capabilities: [{ type: 'audit-test' }] }, 201)
  return { did: body.identity.did as string, privateKey: body.identity.privateKey as string }
}

/** Send `count` custodied messages from `from` to `to`. */
export async function sendMany(fx: ApiFixture, from: string, to: string | null, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await post(fx, '/messages/send', { fromDid: from, toDid: to, message: `m${i}` })
}

/** Refusals: one forgery in alice's name, and replay, stale and rotated-key envelopes that really are carol's and bob's. */
async function refusals(
  fx: ApiFixture,
  s: { alice: string; bob: string; bobOldKey: KeyPair; carol: KeyPair & { did: string } },
) {
  const mallory = generateKeyPair()
  const forged = createMessage(
    { from: s.alice, to: s.bob, body: 'pay mallory', ts: Date.now(), nonce: nonce() },
    mallory,
  )
  expect((await post(fx, '/messages/send', { envelope: forged }, 400)).code).toBe('SIGNATURE_INVALID')
  const n = nonce()
  const first = createMessage({ from: s.carol.did, to: s.alice, body: 'first', ts: Date.now(), nonce: n }, s.carol)
  await post(fx, '/messages/send', { envelope: first })
  expect((await post(fx, '/messages/send', { envelope: first }, 409)).code).toBe('DUPLICATE')
  const replay = createMessage({ from: s.carol.did, to: s.alice, body: 'again', ts: Date.now(), nonce: n }, s.carol)
  expect((await post(fx, '/messages/send', { envelope: replay }, 409)).code).toBe('REPLAY')
  const stale = createMessage(
    { from: s.carol.did, to: s.bob, body: 'old', ts: Date.now() - 3_600_000, nonce: nonce() },
    s.carol,
  )
  expect((await post(fx, '/messages/send', { envelope: stale }, 400)).code).toBe('CLOCK_SKEW')
  const old = createMessage({ from: s.bob, to: s.alice, body: 'old key', ts: Date.now(), nonce: nonce() }, s.bobOldKey)
  expect((await post(fx, '/messages/send', { envelope: old }, 400)).code).toBe('ROTATED_KEY')
}

/** Start both nodes and run the traffic. */
export async function auditScene(): Promise<AuditScene> {
  // every export and proof of this scene covers the whole log: no interval between read checkpoints
  const fx = await startApi({}, {}, { init: { minCheckpointIntervalMs: 0, limits: { onDemandCheckpointMs: 0 } } })
  const b = await startNode({ peers: [fx.node.info().multiaddrs[0]!] })
  const client = new MeshsigClient({ server: fx.url })
  const alice = (await register(fx, 'alice')).did
  const bob = await register(fx, 'bob')
  const carolKey = generateKeyPair()
  const carol = (await client.registerWithKey(carolKey, { name: 'carol' }, generateKeyPair())).identity.did
  await sendMany(fx, alice, bob.did, 3)
  await sendMany(fx, bob.did, alice, 1)
  await client.sendSigned(carolKey, { from: carol, to: alice, message: 'hello from carol' })
  await post(fx, '/handshake', { fromDid: alice, toDid: bob.did })
  await post(fx, '/audit/checkpoint', undefined, 201)
  await post(fx, '/agents/rotate-key', { did: bob.did })
  await sendMany(fx, bob.did, alice, 2)
  await sendMany(fx, bob.did, null, 1)
  const bobOldKey = keyPairFromSeed(fromB64(bob.privateKey, 'seed', 32))
  await refusals(fx, { alice, bob: bob.did, bobOldKey, carol: { ...carolKey, did: carol } })
  const dave = await b.registerAgent('dave', [])
  await waitFor(() => fx.node.agents.record(dave.identity.did) !== undefined, { timeout: 15_000 })
  const sent = await b.sendMessage({
    authority: OPERATOR,
    fromDid: dave.identity.did,
    toDid: alice,
    message: 'over gossip',
  })
  await waitFor(() => fx.node.store.messages.exists(sent.id), { timeout: 15_000 })
  const eve = await register(fx, 'eve')
  await post(fx, '/agents/revoke', { did: eve.did, reason: 'test' })
  return {
    fx,
    b,
    client,
    alice,
    bob: bob.did,
    carol: { did: carol, key: carolKey },
    dave: dave.identity.did,
    stop: async () => {
      await fx.stop()
      await stopAll([b])
    },
  }
}
