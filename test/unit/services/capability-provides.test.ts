/**
 * The capability types a node announces on the DHT (node/services/capability-provides.ts,
 * docs/protocol.md §9 "Capability discovery"): one queue at `provideConcurrency`,
 * at most `providedTypes` types (oldest agents' first, one warning past it),
 * withdrawn when no active own agent holds them, nothing while stopped.
 */
import { describe, expect, it } from 'vitest'
import { NodeEvents } from '../../../node/events.js'
import { CapabilityProvides } from '../../../node/services/capability-provides.js'
import type { AgentRow } from '../../../node/store/agents-repo.js'

const NODE = 'did:msig:node'

/** Agents in registration order; `revoked` and remote ones hold no announced type (as `ownActiveTypes` reads them). */
class Agents {
  readonly rows: { did: string; types: string[]; revoked: boolean; origin: 'local' | 'remote' }[] = []
  get(did: string): AgentRow | undefined {
    const row = this.rows.find((r) => r.did === did)
    return row
      ? ({ did, origin: row.origin, capabilities: row.types.map((type) => ({ type })) } as AgentRow)
      : undefined
  }
  /** Full counts read (each reads every own agent's capabilities in the store). */
  counts = 0
  ownActiveTypeCounts(): { type: string; holders: number }[] {
    this.counts += 1
    const holders = new Map<string, number>()
    for (const r of this.own()) for (const t of [...r.types].sort()) holders.set(t, (holders.get(t) ?? 0) + 1)
    return [...holders].map(([type, n]) => ({ type, holders: n }))
  }
  private own(): Agents['rows'] {
    return this.rows.filter((r) => !r.revoked && r.origin === 'local')
  }
}

/** A mesh whose provides wait until released. */
class Dht {
  inFlight = 0
  max = 0
  readonly provided: string[] = []
  readonly withdrawn: string[] = []
  private held: (() => void)[] = []
  provideCapability(type: string): Promise<void> {
    this.provided.push(type)
    this.max = Math.max(this.max, ++this.inFlight)
    return new Promise((done) =>
      this.held.push(() => {
        this.inFlight -= 1
        done()
      }),
    )
  }
  withdrawCapability(type: string): Promise<void> {
    this.withdrawn.push(type)
    return Promise.resolve()
  }
  async releaseAll(): Promise<void> {
    while (this.held.length > 0) {
      for (const go of this.held.splice(0)) go()
      await new Promise((r) => setImmediate(r))
    }
  }
}

function kit(limits = { providedTypes: 4, provideConcurrency: 2 }) {
  const events = new NodeEvents()
  const agents = new Agents()
  const dht = new Dht()
  const warnings: string[] = []
  const provides = new CapabilityProvides({
    ...{ agents, events, limits, nodeDid: () => NODE, onError: (e) => expect.fail(String(e)) },
    p2p: () => dht,
    warn: (m) => warnings.push(m),
  })
  const register = (did: string, types: string[], controller = NODE): void => {
    agents.rows.push({ did, types, revoked: false, origin: controller === NODE ? 'local' : 'remote' })
    const capabilities = types.map((type) => ({ type }))
    events.emit('agent:registered', { did, name: did, capabilities, controller, source: 'api' })
  }
  const revoke = (did: string): void => {
    agents.rows.find((r) => r.did === did)!.revoked = true
    events.emit('agent:revoked', { did, reason: 'test', ts: 0 })
  }
  return { provides, dht, warnings, register, revoke, agents }
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r))

describe('CapabilityProvides', () => {
  it('provides at most provideConcurrency at once and at most providedTypes types, warning once', async () => {
    const { provides, dht, warnings, register } = kit()
    provides.start()
    register('did:a', ['a1', 'a2', 'a3'])
    register('did:b', ['b1', 'b2', 'a1'])
    register('did:c', ['c1'])
    expect(dht.inFlight).toBe(2)
    expect(provides.view()).toMatchObject({ provided: 4, queued: 2, running: 2, leftOut: 2 })
    await dht.releaseAll()
    expect(dht.max).toBe(2)
    expect(dht.provided).toEqual(['a1', 'a2', 'a3', 'b1'])
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('limits.discovery.providedTypes (4)')
  })

  it('leaves out other nodes’ agents, and withdraws the types of a revoked agent', async () => {
    const { provides, dht, register, revoke } = kit()
    provides.start()
    register('did:x', ['remote'], 'did:msig:other')
    register('did:a', ['a1', 'shared'])
    register('did:b', ['shared', 'b1'])
    await dht.releaseAll()
    revoke('did:a')
    await turn()
    expect(dht.withdrawn).toEqual(['a1'])
    expect(provides.types()).toEqual(['shared', 'b1'])
    revoke('did:b')
    await turn()
    expect(dht.withdrawn).toEqual(['a1', 'shared', 'b1'])
    expect(provides.view().provided).toBe(0)
  })

  // review 86: each revocation and re-announcement counted the whole set, reading every own agent's row (seconds
  // of the event loop with tens of thousands); now only a start, or a revocation that frees a slot while types
  // wait past the bound, counts it
  it('counts the whole set only at start, or when a revocation frees a slot and types were left out', async () => {
    const { provides, dht, register, revoke, agents } = kit()
    provides.start()
    expect(agents.counts).toBe(1)
    register('did:a', ['a1', 'shared'])
    register('did:b', ['shared'])
    await dht.releaseAll()
    revoke('did:a')
    provides.reprovide()
    await dht.releaseAll()
    expect(dht.withdrawn).toEqual(['a1'])
    expect(agents.counts).toBe(1)
    register('did:c', ['c1', 'c2', 'c3', 'c4']) // one past the bound of 4
    expect(provides.view().leftOut).toBe(1)
    revoke('did:b')
    await new Promise((r) => setTimeout(r, 5))
    expect(agents.counts).toBe(2)
    expect(provides.types().sort()).toEqual(['c1', 'c2', 'c3', 'c4'])
  })

  it('re-announces the current set through the same queue, and nothing while stopped', async () => {
    const { provides, dht, register } = kit({ providedTypes: 8, provideConcurrency: 1 })
    register('did:a', ['a1', 'a2', 'a3'])
    expect(dht.provided).toEqual([]) // the mesh is not up yet
    provides.start()
    await dht.releaseAll()
    expect(dht.provided).toEqual(['a1', 'a2', 'a3'])
    provides.reprovide()
    expect(dht.inFlight).toBe(1)
    await dht.releaseAll()
    expect(dht.provided).toEqual(['a1', 'a2', 'a3', 'a1', 'a2', 'a3'])
    expect(dht.max).toBe(1)
    provides.stop()
    provides.reprovide()
    register('did:b', ['b1'])
    expect(dht.inFlight).toBe(0)
  })

  it('announces nothing with providedTypes 0', async () => {
    const { provides, dht, warnings, register } = kit({ providedTypes: 0, provideConcurrency: 2 })
    provides.start()
    register('did:a', ['a1'])
    register('did:b', ['b1'])
    await dht.releaseAll()
    expect(dht.provided).toEqual([])
    expect(provides.view().leftOut).toBe(2)
    expect(warnings).toHaveLength(1)
  })
})
