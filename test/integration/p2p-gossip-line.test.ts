/**
 * Gossip over a strict line of five TCP nodes (each dialled only its
 * neighbour): multi-hop delivery exactly once, a validator's 'reject' stops
 * propagation, and the rejected deliverer loses gossipsub score.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MESSAGES_TOPIC, REGISTRY_TOPIC } from '../../node/p2p/index.js'
import { waitFor } from '../helpers/wait-for.js'
import { bytes, deliveries, startLine, stopAll, waitForLineMesh, type Peer } from './p2p-fixture.js'

describe('p2p gossip in a line of 5 TCP nodes', () => {
  let line: Peer[] = []

  beforeAll(async () => {
    line = await startLine(5, { transports: 'tcp+ws', strict: true })
    await waitForLineMesh(line, MESSAGES_TOPIC)
    await waitForLineMesh(line, REGISTRY_TOPIC)
  }, 90_000)

  afterAll(async () => {
    await stopAll(line)
  })

  it('keeps the line strict: every node is connected to its neighbours only', () => {
    line.forEach((p, i) => {
      const expected = [line[i - 1]?.peerId, line[i + 1]?.peerId].filter((id) => id !== undefined).sort()
      expect(
        p.node
          .peers()
          .map((x) => x.peerId)
          .sort(),
      ).toEqual(expected)
    })
  })

  it('delivers a message published on node 1 to node 5, exactly once per node', async () => {
    const [first, , , , last] = line as [Peer, Peer, Peer, Peer, Peer]
    const result = await first.node.publish(MESSAGES_TOPIC, bytes('hello-line'))
    expect(result.recipients).toBe(1)
    await waitFor(() => line.slice(1).every((p) => deliveries(p, 'hello-line') > 0), { timeout: 20_000 })
    // A second message the other way round flushes anything still in flight.
    await last.node.publish(MESSAGES_TOPIC, bytes('back-line'))
    await waitFor(() => line.slice(0, 4).every((p) => deliveries(p, 'back-line') > 0), { timeout: 20_000 })
    for (const p of line.slice(1)) expect(deliveries(p, 'hello-line')).toBe(1)
    for (const p of line.slice(0, 4)) expect(deliveries(p, 'back-line')).toBe(1)
    expect(deliveries(first, 'hello-line')).toBe(0)
    const atLast = last.received.find((d) => d.text === 'hello-line')
    expect(atLast).toMatchObject({ topic: MESSAGES_TOPIC, from: first.peerId, via: line[3]!.peerId })
  })

  it('stops propagation at a node whose validator rejects, and penalises the deliverer', async () => {
    const [first, second] = line as [Peer, Peer]
    second.verdict = (_topic, text) => (text.startsWith('bad-') ? 'reject' : 'accept')
    const scoreBefore = second.node.peerScore(first.peerId)
    for (const text of ['bad-1', 'bad-2', 'bad-3']) await first.node.publish(REGISTRY_TOPIC, bytes(text))
    await first.node.publish(REGISTRY_TOPIC, bytes('good-after-bad'))
    await waitFor(() => line.slice(1).every((p) => deliveries(p, 'good-after-bad') === 1), { timeout: 20_000 })
    for (const p of line) {
      for (const text of ['bad-1', 'bad-2', 'bad-3']) expect(deliveries(p, text)).toBe(0)
    }
    expect(second.validated.filter((d) => d.text.startsWith('bad-')).map((d) => d.via)).toEqual([
      first.peerId,
      first.peerId,
      first.peerId,
    ])
    for (const p of line.slice(2)) expect(p.validated.some((d) => d.text.startsWith('bad-'))).toBe(false)
    await waitFor(() => second.node.peerScore(first.peerId) < 0, { timeout: 10_000 })
    expect(second.node.peerScore(first.peerId)).toBeLessThan(scoreBefore)
    // The third node was never handed anything bad by the second: no penalty there.
    expect(line[2]!.node.peerScore(second.peerId)).toBeGreaterThanOrEqual(0)
  })

  it("treats 'ignore' as drop without penalty", async () => {
    const [first, second] = line as [Peer, Peer]
    second.verdict = (_topic, text) => (text.startsWith('dup-') ? 'ignore' : 'accept')
    await first.node.publish(MESSAGES_TOPIC, bytes('dup-1'))
    await first.node.publish(MESSAGES_TOPIC, bytes('after-dup'))
    await waitFor(() => deliveries(line[4]!, 'after-dup') === 1, { timeout: 20_000 })
    for (const p of line) expect(deliveries(p, 'dup-1')).toBe(0)
    expect(second.validated.some((d) => d.text === 'dup-1')).toBe(true)
  })
})
