/**
 * A peer that answers the handshake protocol with JSON that is not a
 * `{proof}` object (here `null`, then other junk) makes `POST /handshake` fail
 * with a meshsig error (PEER_ERROR, 502), never a 500, and stores nothing.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serveApi, type ServedApi } from '../../api/server.js'
import { createInception, createRegistration, didFromPublicKey, generateKeyPair, utf8 } from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { createMeshP2P, HANDSHAKE_PROTOCOL, type MeshP2P } from '../../node/p2p/index.js'
import { testConfig } from '../api/api-fixture.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { emptyRegistry } from './flood-rogue.js'

const OPERATOR_TOKEN = randomBytes(32).toString('base64url')

describe('a rogue peer answering the handshake protocol with junk', () => {
  let a: MeshNode
  let api: ServedApi
  let rogue: MeshP2P
  let answer = 'null'
  let asked = 0

  beforeAll(async () => {
    a = await startNode()
    api = await serveApi(a, testConfig(), { verifyWorkers: 0, token: OPERATOR_TOKEN })
    const rogueKey = generateKeyPair()
    rogue = await createMeshP2P({
      seed: rogueKey.seed,
      transports: 'memory',
      listen: [`/memory/rogue-hs-${process.pid}-${Date.now()}`],
      validate: () => 'accept',
      onMessage: () => undefined,
      syncProvider: emptyRegistry,
      heartbeatInterval: 200,
    })
    await rogue.registerProtocol(HANDSHAKE_PROTOCOL, async () => {
      asked++
      return utf8(answer)
    })
    await rogue.start()
    await rogue.dial(a.info().multiaddrs[0]!)
    await waitFor(() => a.mesh.peers().some((p) => p.peerId === rogue.peerId), { timeout: 15_000 })
  })

  afterAll(async () => {
    await api?.close()
    await rogue?.stop()
    await stopAll([a])
  })

  async function handshake(fromDid: string, toDid: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${api.url}/handshake`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${OPERATOR_TOKEN}` },
      body: JSON.stringify({ fromDid, toDid }),
    })
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }

  it('null, a number, an array, {} and {proof: null} are PEER_ERROR (502), not INTERNAL; nothing stored', async () => {
    const from = (await a.registerAgent('initiator')).identity.did
    // an agent whose registration names the rogue peer: handshakes to it go over the wire to the rogue
    const key = generateKeyPair()
    const icp = createInception(key, Date.now(), generateKeyPair())
    const reg = createRegistration(
      {
        did: icp.did,
        name: 'hosted-by-rogue',
        capabilities: [],
        controller: didFromPublicKey(generateKeyPair().publicKey),
        peerId: rogue.peerId,
        ts: Date.now(),
      },
      key,
    )
    expect((await a.submitEnvelope(icp)).ok).toBe(true)
    expect((await a.submitEnvelope(reg)).ok).toBe(true)

    const auditBefore = a.store.auditEntries.count()
    for (const junk of ['null', '42', '[]', '{}', '{"proof":null}', '"proof"']) {
      answer = junk
      const before = asked
      const r = await handshake(from, icp.did)
      expect(asked, junk).toBe(before + 1)
      expect(r.status, junk).toBe(502)
      expect(r.body.code, junk).toBe('PEER_ERROR')
    }
    const connections = (await (await fetch(`${api.url}/connections`)).json()) as { connections: unknown[] }
    expect(connections.connections).toEqual([])
    expect(a.store.auditEntries.count()).toBe(auditBefore)
  })
})
