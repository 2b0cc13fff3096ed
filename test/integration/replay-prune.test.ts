/**
 * The replay cache is pruned: nonces of messages older than twice the
 * freshness window are forgotten (such a message fails the clock check
 * anyway), so the table stays bounded and a replay is still refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMessage, fromB64, keyPairFromB64, type MsgEnvelope } from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { OPERATOR } from '../../node/services/authority.js'

describe('replay cache pruning', () => {
  let node: MeshNode
  let offset = 0
  const clock = (): number => Date.now() + offset
  const maxSkewMs = 1000

  beforeAll(async () => {
    node = await startNode({ init: { clock, maxSkewMs, replayPruneIntervalMs: 20 } })
  })
  afterAll(() => stopAll([node]))

  it('forgets nonces older than 2 × maxSkewMs; an old message replayed is still refused, as CLOCK_SKEW', async () => {
    const agent = await node.registerAgent('replayer')
    const did = agent.identity.did
    const key = keyPairFromB64(agent.identity.privateKey)
    const sent: MsgEnvelope[] = []
    for (let i = 0; i < 5; i++)
      sent.push((await node.sendMessage({ authority: OPERATOR, fromDid: did, toDid: null, message: `m${i}` })).envelope)
    const before = node.store.messages.replayCount()
    expect(before).toBeGreaterThanOrEqual(5)
    const old = sent[0]!
    // same signer, same nonce, another body: inside the window the nonce is remembered
    const reuse = (body: string) =>
      createMessage({ from: did, to: null, body, ts: old.ts, nonce: fromB64(old.nonce) }, key)
    const inWindow = await node.submitEnvelope(reuse('replayed in the window'))
    expect(inWindow.ok ? 'accepted' : inWindow.error.code).toBe('REPLAY')

    offset += 2 * maxSkewMs + 500 // the messages are now older than twice the window
    await waitFor(() => node.store.messages.replayCount() < before, { message: 'replay cache pruned' })
    expect(node.store.messages.replayCount()).toBe(0)

    const replayed = await node.submitEnvelope(reuse('replayed after pruning'))
    expect(replayed.ok ? 'accepted' : replayed.error.code).toBe('CLOCK_SKEW')
    const exact = await node.submitEnvelope(old)
    expect(exact.ok).toBe(false) // the stored message itself: a duplicate
    // fresh traffic still goes through and is remembered
    await node.sendMessage({ authority: OPERATOR, fromDid: did, toDid: null, message: 'fresh' })
    expect(node.store.messages.replayCount()).toBe(1)
  })
})
