import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MeshNode } from '../../node/mesh-node.js'
import type { NodeEvent } from '../../node/events.js'
import { startLine, startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { OPERATOR } from '../../node/services/authority.js'

describe.each(['memory', 'tcp'] as const)(
  'five nodes in a line over %s (each knows only its neighbour)',
  (transport) => {
    let nodes: MeshNode[] = []
    const received: NodeEvent<'message:received'>[] = []

    beforeAll(async () => {
      nodes = await startLine(5, transport)
      nodes[4]!.events.subscribe((e) => {
        if (e.type === 'message:received') received.push(e)
      })
      // the gossip mesh of every node has a neighbour on each topic before anything is published
      await waitFor(() => nodes.every((n) => n.mesh.meshPeers('meshsig/v1/registry').length > 0), { timeout: 20_000 })
      await waitFor(() => nodes.every((n) => n.mesh.meshPeers('meshsig/v1/messages').length > 0), { timeout: 20_000 })
    })

    afterAll(() => stopAll(nodes))

    it('a registration on node 1 appears on node 5, as remote, hosted by node 1', async () => {
      const { identity } = await nodes[0]!.registerAgent('alpha', [{ type: 'analysis', confidence: 0.9 }])
      await waitFor(() => nodes[4]!.agents.record(identity.did) !== undefined, { timeout: 15_000 })
      const record = nodes[4]!.agents.record(identity.did)!
      expect(record.origin).toBe('remote')
      expect(record.originServer).toBe(nodes[0]!.did)
      expect(record.capabilities).toEqual([{ type: 'analysis', confidence: 0.9 }])
      expect(nodes[0]!.agents.record(identity.did)!.origin).toBe('local')
    })

    it('a message from an agent on node 1 to an agent on node 5 arrives verified, exactly once, with a receipt', async () => {
      const a = await nodes[0]!.registerAgent('sender', [])
      const b = await nodes[4]!.registerAgent('receiver', [])
      await waitFor(() => nodes[0]!.agents.record(b.identity.did) !== undefined, { timeout: 15_000 })
      const sent = await nodes[0]!.sendMessage({
        authority: OPERATOR,
        fromDid: a.identity.did,
        toDid: b.identity.did,
        message: 'analyse Q1',
      })
      await waitFor(() => nodes[4]!.store.messages.exists(sent.id), { timeout: 15_000 })
      const stored = nodes[4]!.store.messages.list({ did: b.identity.did })
      expect(stored.filter((m) => m.id === sent.id)).toHaveLength(1)
      expect(stored[0]!.envelope).toEqual(sent.envelope)
      // delivered over /meshsig/deliver/1.0.0 to the node hosting the recipient (docs/protocol.md §10)
      expect(stored[0]!.source).toBe('deliver')
      await waitFor(() => received.some((e) => e.data.id === sent.id), { timeout: 5_000 })
      expect(received.filter((e) => e.data.id === sent.id)).toHaveLength(1)
      // the sender's node and the recipient's store it once; the nodes in between never see it
      const copies = nodes.map((n) => n.store.messages.list().filter((m) => m.id === sent.id).length)
      expect(copies).toEqual([1, 0, 0, 0, 1])
      await waitFor(() => nodes[0]!.delivery(sent.id)?.state === 'delivered', { timeout: 15_000 })
      expect(nodes[0]!.delivery(sent.id)?.receipt).toMatchObject({ msg: sent.id, node: nodes[4]!.did })
    })

    it('node 3 finds an agent with capability analysis that lives only on node 1, through the DHT', async () => {
      const { identity } = await nodes[0]!.registerAgent('analyst', [{ type: 'analysis' }])
      const found = await waitFor(
        async () => {
          const r = await nodes[2]!.discoverNetwork('analysis')
          return r.remote.find((m) => m.record.did === identity.did)
        },
        { timeout: 20_000, interval: 250 },
      )
      expect(found.provider).toBe(nodes[0]!.mesh.peerId)
      expect(found.via).toBe('dht')
      expect(found.record.origin).toBe('remote')
    })

    it('a node that joins late catches up through sync', async () => {
      const late = await startNode({ transports: transport, peers: [nodes[4]!.info().multiaddrs[0]!] })
      try {
        const expected = nodes[0]!.agents
          .list()
          .map((a) => a.did)
          .sort()
        await waitFor(() => expected.every((did) => late.agents.record(did) !== undefined), { timeout: 15_000 })
        for (const did of expected) {
          expect(late.store.keyEvents.log(did)).toEqual(nodes[0]!.store.keyEvents.log(did))
        }
      } finally {
        await late.stop()
      }
    })
  },
)
