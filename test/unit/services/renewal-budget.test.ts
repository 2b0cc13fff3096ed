// The renewal budget (node/services/renewal-budget.ts, docs/protocol.md §7): registrations of a DID the node
// already stores, from gossip or sync, are taken at most `renewalsPerDid` per window. Past it they are
// RATE_LIMITED: not stored, audited, announced or charged, and sync does not remember them as refused.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createRegistration, envelopeId, type RegEnvelope } from '../../../node/core/index.js'
import { Ingest } from '../../../node/services/ingest.js'
import { RenewalBudget } from '../../../node/services/renewal-budget.js'
import { RefusedIds } from '../../../node/services/sync.js'
import { auditEntries, kitAgent, kitNode, type KitAgent, type KitNode } from '../../helpers/service-kit.js'

const WINDOW_MS = 60_000
const RENEWALS = 2
let n: KitNode
let ingest: Ingest
let agent: KitAgent
let warnings: string[]
const sync = { kind: 'sync', peer: 'peer-x' } as const
const gossip = { kind: 'gossip', peer: 'peer-x' } as const

beforeEach(() => {
  n = kitNode()
  warnings = []
  const limits = { renewalsPerDid: RENEWALS, renewalWindowMs: WINDOW_MS }
  const renewals = new RenewalBudget(limits, n.clock.now, (w) => warnings.push(w))
  const { store, audit, events, clock } = n
  ingest = new Ingest({ store, audit, events, clock: clock.now, maxSkewMs: 5 * 60_000, nodeDid: () => n.did, renewals })
  agent = kitAgent(n.random, n.clock.ms, { controller: 'did:msig:other', peerId: 'peer-x' })
  expect(ingest.ingest(agent.icp, gossip, { fresh: true }).ok).toBe(true)
  expect(ingest.ingest(agent.reg, gossip, { fresh: true }).ok).toBe(true)
})
afterEach(() => n.close())

/** The agent's registration named `name`, dated `dt` ms after its first. */
function renewal(name: string, dt: number): RegEnvelope {
  const { did, controller, peerId, capabilities, ts } = agent.reg
  return createRegistration({ did, name, capabilities, controller, peerId, ts: ts + dt }, agent.key)
}

describe('registrations of a known DID from the mesh', () => {
  it('are taken renewalsPerDid times a window; the next is refused and leaves nothing', () => {
    expect(ingest.ingest(renewal('one', 1), sync, { fresh: false }).ok).toBe(true)
    expect(ingest.ingest(renewal('two', 2), gossip, { fresh: true }).ok).toBe(true)
    const entries = auditEntries(n.store).length
    const emitted = n.emitted.length
    const v = ingest.ingest(renewal('three', 3), sync, { fresh: false })
    expect(v.ok ? undefined : v.error.code).toBe('RATE_LIMITED')
    expect(n.store.agents.get(agent.did)?.name).toBe('two')
    expect(auditEntries(n.store)).toHaveLength(entries)
    expect(n.emitted).toHaveLength(emitted)
    expect(n.store.misc.peerFaults().map((f) => f.forged)).toEqual([0])
    expect(warnings.some((w) => w.includes('limits.registry.renewalsPerDid'))).toBe(true)
  })

  it('are taken again in the next window', () => {
    ingest.ingest(renewal('one', 1), sync, { fresh: false })
    ingest.ingest(renewal('two', 2), sync, { fresh: false })
    n.clock.advance(WINDOW_MS)
    expect(ingest.ingest(renewal('three', 3), sync, { fresh: false }).ok).toBe(true)
    expect(n.store.agents.get(agent.did)?.name).toBe('three')
  })

  it('count only when valid: forgeries in the DID’s name cannot use its budget up', () => {
    const forged = { ...renewal('forged', 1), sig: renewal('other', 9).sig }
    for (let i = 0; i < 5; i++) expect(ingest.ingest(forged, gossip, { fresh: true }).ok).toBe(false)
    expect(ingest.ingest(renewal('one', 2), gossip, { fresh: true }).ok).toBe(true)
    expect(ingest.ingest(renewal('two', 3), gossip, { fresh: true }).ok).toBe(true)
  })

  it('are counted on each agent’s row: DIDs renewed on purpose crowd no other DID’s count out', () => {
    // attack review of decision 0045: counted in a bounded memory, DIDs renewed once a window each kept
    // every other DID's renewals out for good
    const crowd = Array.from({ length: 50 }, (_, i) =>
      kitAgent(n.random, n.clock.ms, { controller: 'did:msig:other', peerId: 'peer-x', name: `crowd ${i}` }),
    )
    for (const c of crowd) {
      expect(ingest.ingest(c.icp, gossip, { fresh: true }).ok).toBe(true)
      expect(ingest.ingest(c.reg, gossip, { fresh: true }).ok).toBe(true)
    }
    for (let w = 0; w < 3; w++) {
      n.clock.advance(WINDOW_MS)
      for (const c of crowd) {
        const { did, controller, peerId, capabilities, ts } = c.reg
        const again = createRegistration(
          { did, name: `w${w}`, capabilities, controller, peerId, ts: ts + w + 1 },
          c.key,
        )
        expect(ingest.ingest(again, gossip, { fresh: true }).ok).toBe(true)
      }
      expect(ingest.ingest(renewal(`honest w${w}`, w + 1), gossip, { fresh: true }).ok).toBe(true)
    }
    expect(n.store.agents.get(agent.did)).toMatchObject({ name: 'honest w2', renewals: 1 })
  })

  it('are not budgeted from the node’s own API', () => {
    for (let i = 1; i <= RENEWALS + 2; i++) {
      expect(ingest.ingest(renewal(`api ${i}`, i), { kind: 'api' }, { fresh: true }).ok).toBe(true)
    }
  })

  it('are not remembered by sync as refused: a later round fetches them again', () => {
    const refused = new RefusedIds()
    const id = envelopeId(renewal('three', 3))
    refused.remember(id, 'RATE_LIMITED', 'peer-x')
    expect(refused.has('peer-x', id.slice(0, 16))).toBe(false)
    expect(refused.size).toBe(0)
  })
})
