/**
 * Retention of relayed traffic (issue 9): a node deletes the messages it
 * stored for others (neither from nor to one of its agents) once they are
 * older than `relay.retentionMs`, keeps its own agents' traffic, and keeps
 * the audit entries of both. A limit that is not a number ≥ 0, or unknown,
 * is refused with INVALID_INPUT.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MeshsigError } from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { OPERATOR } from '../../node/services/authority.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'

const HOUR = 3_600_000
let a: MeshNode
let b: MeshNode
/** b's clock runs `ahead` ms in front of the real one. */
let ahead = 0

beforeAll(async () => {
  a = await startNode()
  b = await startNode({
    peers: [a.info().multiaddrs[0]!],
    init: { clock: () => Date.now() + ahead, limits: { relay: { retentionMs: HOUR, pruneIntervalMs: 20 } } },
  })
  await waitFor(() => a.mesh.meshPeers('meshsig/v1/messages').includes(b.mesh.peerId), { timeout: 15_000 })
}, 60_000)

afterAll(() => stopAll([a, b]))

function auditHas(n: MeshNode, id: string): boolean {
  return n.store.auditEntries
    .entries(0, n.store.auditEntries.count())
    .some((r) => (JSON.parse(r.entry) as { envelopeId: string | null }).envelopeId === id)
}

describe('retention of relayed messages', () => {
  it('deletes what a node keeps for others after the retention, keeps its own agents’ messages and every entry', async () => {
    const [x, y] = [await a.registerAgent('x'), await a.registerAgent('y')]
    const mine = await b.registerAgent('mine')
    await waitFor(() => b.agents.record(y.identity.did) !== undefined, { timeout: 15_000 })
    await waitFor(() => a.agents.record(mine.identity.did) !== undefined, { timeout: 15_000 })
    const send = (from: string, to: string | null) =>
      a.sendMessage({ authority: OPERATOR, fromDid: from, toDid: to, message: 'hi' })
    // a broadcast of a's agent is relayed traffic on b; a direct message to b's agent is b's own
    const foreign = await send(x.identity.did, null)
    const toMine = await send(x.identity.did, mine.identity.did)
    await waitFor(() => b.store.messages.exists(foreign.id) && b.store.messages.exists(toMine.id), {
      timeout: 15_000,
    })
    ahead = HOUR + 60_000
    await waitFor(() => !b.store.messages.exists(foreign.id), { timeout: 15_000 })
    expect(b.store.messages.exists(toMine.id)).toBe(true)
    expect(auditHas(b, foreign.id)).toBe(true)
    // the node whose agents sent it keeps it
    expect(a.store.messages.exists(foreign.id)).toBe(true)
  })
})

describe('limits', () => {
  it('refuses a negative, fractional or unknown limit with INVALID_INPUT', async () => {
    for (const limits of [{ relay: { perDidMessages: -1 } }, { stream: { maxClients: 1.5 } }, { relay: { nope: 1 } }]) {
      const err = await startNode({ init: { limits: limits as never } }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(MeshsigError)
      expect((err as MeshsigError).code).toBe('INVALID_INPUT')
    }
  })
})
