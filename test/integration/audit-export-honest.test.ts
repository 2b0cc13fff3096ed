/**
 * Honest exports verify (the guard of the verifier's stricter trust and list
 * checks, node/audit/trust-check.ts; written by the review of aac6925): a real
 * node's exports at every size it signed, in both forms, after rotations,
 * duplicity, revocations, peers delivering, an agent with its own key, a
 * second connection between one pair, connections and revocations made after
 * earlier checkpoints.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkAuditExport, type ExportCheck } from '../../node/audit/export-check.js'
import { NdjsonExportCheck } from '../../node/audit/export-stream-check.js'
import { createMessage, createRotation, generateKeyPair } from '../../node/core/index.js'
import { auditScene, nonce, post, sendMany, type AuditScene } from './audit-fixture.js'

let scene: AuditScene
const sizes: number[] = []

const problemsOf = (check: ExportCheck): string[] => [
  ...check.problems.map((p) => p.message),
  ...check.log.problems.map((p) => p.message),
]

async function checkpoint(): Promise<void> {
  const r = await post(scene.fx, '/audit/checkpoint', undefined, 201)
  sizes.push(r.checkpoint.size as number)
}

beforeAll(async () => {
  scene = await auditScene()
  const { fx, client, alice, bob } = scene
  const cur = (await (await fetch(`${fx.url}/audit/export`)).json()) as { checkpoints: { size: number }[] }
  for (const c of cur.checkpoints) sizes.push(c.size)
  // an agent with its own key and its next: messages, then two conflicting rotations (duplicity)
  const key = generateKeyPair()
  const next = generateKeyPair()
  const frank = (await client.registerWithKey(key, { name: 'frank' }, next)).identity.did
  for (const to of [alice, bob]) {
    const m = createMessage({ from: frank, to, body: 'hi', ts: Date.now(), nonce: nonce() }, key)
    await post(fx, '/messages/send', { envelope: m })
  }
  const s0 = fx.node.store.keyEvents.state(frank)!
  const first = createRotation(s0, key, next, Date.now(), generateKeyPair())
  const second = createRotation(s0, key, next, Date.now() + 1, generateKeyPair())
  await post(fx, '/agents/rotate-key', { envelope: first })
  await post(fx, '/agents/rotate-key', { envelope: second }, 409)
  await post(fx, '/handshake', { fromDid: bob, toDid: alice })
  await checkpoint()
  // after that size: a connection, messages, a revocation the earlier sizes do not hold
  await post(fx, '/handshake', { fromDid: alice, toDid: bob })
  await sendMany(fx, alice, bob, 2)
  await post(fx, '/agents/revoke', { did: bob, reason: 'later' })
  await checkpoint()
}, 180_000)

afterAll(async () => {
  await scene?.stop()
})

describe('honest exports verify', () => {
  it('JSON and NDJSON at every signed size', async () => {
    expect(sizes.length).toBeGreaterThanOrEqual(3)
    const verdicts: Record<string, string[]> = {}
    for (const size of sizes) {
      const doc = await (await fetch(`${scene.fx.url}/audit/export?size=${size}`)).json()
      verdicts[`json@${size}`] = problemsOf(checkAuditExport(doc))
      const nd = await (await fetch(`${scene.fx.url}/audit/export?format=ndjson&size=${size}`)).text()
      const checker = new NdjsonExportCheck()
      for (const l of nd.split('\n')) if (l !== '') checker.line(l)
      verdicts[`ndjson@${size}`] = problemsOf(checker.finish())
    }
    const expected = Object.fromEntries(Object.keys(verdicts).map((k) => [k, []]))
    expect(verdicts).toEqual(expected)
  }, 120_000)
})
