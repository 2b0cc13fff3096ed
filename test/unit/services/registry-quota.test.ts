// The registry quota (node/services/registry-quota.ts, docs/protocol.md §7): agents and the key logs of DIDs that
// are no agent (peer nodes, controllers) count against `maxAgents` together, over any order of arrival; past it an
// agent's first host still has its key log taken, and a controller a renewal names anew does not (decision 0045).
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createInception, createRegistration, generateKeyPair, toB64 } from '../../../node/core/index.js'
import { Ingest } from '../../../node/services/ingest.js'
import { RegistryQuota } from '../../../node/services/registry-quota.js'
import { openStore } from '../../../node/store/index.js'
import { kitAgent, kitNode, type KitNode } from '../../helpers/service-kit.js'

const MAX = 7
let n: KitNode
let ingest: Ingest
let quota: RegistryQuota
const gossip = { kind: 'gossip', peer: 'peer-x' } as const

beforeEach(() => {
  n = kitNode()
  const { store, audit, events, clock } = n
  const countLogs = (): number => store.keyEvents.countLogsOfNonAgents(n.did)
  quota = new RegistryQuota(
    MAX,
    () => store.agents.count(),
    clock.now,
    () => undefined,
    10_000,
    countLogs,
  )
  ingest = new Ingest({ store, audit, events, clock: clock.now, maxSkewMs: 5 * 60_000, nodeDid: () => n.did, quota })
})
afterEach(() => n.close())

/** DIDs stored: agents and the key logs that are no agent's. */
const stored = (): number => n.store.agents.count() + n.store.keyEvents.countLogsOfNonAgents(n.did)

describe('the registry quota', () => {
  it('never lets agents and other key logs pass maxAgents, whatever their order, and fills it exactly', () => {
    // third attack review of decision 0045: icp then reg, reg then icp, bare logs, renewals naming fresh controllers
    for (let round = 0; round < 6; round++) {
      n.clock.advance(1_000)
      const a = kitAgent(n.random, n.clock.ms, { controller: n.did, peerId: 'p' })
      ingest.ingest(a.icp, gossip, { fresh: true })
      ingest.ingest(a.reg, gossip, { fresh: true })
      const b = kitAgent(n.random, n.clock.ms, { controller: n.did, peerId: 'p' })
      ingest.ingest(b.reg, gossip, { fresh: true })
      ingest.ingest(b.icp, gossip, { fresh: true })
      ingest.ingest(createInception(generateKeyPair(n.random), n.clock.ms), gossip, { fresh: true }) // a peer's log
      const fresh = createInception(generateKeyPair(n.random), n.clock.ms)
      const renewal = createRegistration({ ...b.reg, controller: fresh.did, ts: b.reg.ts + 1 }, b.key)
      ingest.ingest(renewal, gossip, { fresh: true })
      ingest.ingest(fresh, gossip, { fresh: true })
      expect(stored()).toBeLessThanOrEqual(MAX)
    }
    expect(stored()).toBe(MAX)
  })

  it('past the bound takes the log of an agent’s first host, not of a controller a renewal names anew', () => {
    const hostKey = generateKeyPair(n.random)
    const host = createInception(hostKey, n.clock.ms)
    const hosted = kitAgent(n.random, n.clock.ms, { controller: host.did, peerId: 'p' })
    expect(ingest.ingest(hosted.reg, gossip, { fresh: true }).ok).toBe(true)
    for (let i = 1; i < MAX; i++) {
      const filler = kitAgent(n.random, n.clock.ms, { controller: n.did, peerId: 'p' })
      expect(ingest.ingest(filler.reg, gossip, { fresh: true }).ok).toBe(true)
    }
    expect(stored()).toBe(MAX) // full
    const moved = createInception(generateKeyPair(n.random), n.clock.ms)
    const renewal = createRegistration({ ...hosted.reg, controller: moved.did, ts: hosted.reg.ts + 1 }, hosted.key)
    expect(ingest.ingest(renewal, gossip, { fresh: true }).ok).toBe(true)
    const refused = ingest.ingest(moved, gossip, { fresh: true })
    expect(refused.ok ? 'stored' : refused.error.code).toBe('REGISTRY_FULL')
    // moved back to its first host: that host's log is taken, past the bound
    const back = createRegistration({ ...hosted.reg, ts: hosted.reg.ts + 2 }, hosted.key)
    expect(ingest.ingest(back, gossip, { fresh: true }).ok).toBe(true)
    expect(ingest.ingest(host, gossip, { fresh: true }).ok).toBe(true)
    expect(stored()).toBe(MAX + 1)
  })

  it('lets no first host taken past the bound register as an agent past it: no chain of first hosts', () => {
    // fourth attack review: each first host, registered as an agent naming a fresh controller, made that one a
    // first host in turn: 27 DIDs stored after 20 steps against a bound of 7
    let hostKey = generateKeyPair(n.random)
    let host = createInception(hostKey, n.clock.ms)
    const hosted = kitAgent(n.random, n.clock.ms, { controller: host.did, peerId: 'p' })
    expect(ingest.ingest(hosted.reg, gossip, { fresh: true }).ok).toBe(true)
    for (let i = 1; i < MAX; i++) {
      const filler = kitAgent(n.random, n.clock.ms, { controller: n.did, peerId: 'p' })
      expect(ingest.ingest(filler.reg, gossip, { fresh: true }).ok).toBe(true)
    }
    for (let i = 0; i < 20; i++) {
      n.clock.advance(1_000)
      ingest.ingest(host, gossip, { fresh: true })
      const nextKey = generateKeyPair(n.random)
      const next = createInception(nextKey, n.clock.ms)
      const init = { did: host.did, name: 'a', capabilities: [], controller: next.did, peerId: 'p', ts: n.clock.ms }
      ingest.ingest(createRegistration(init, hostKey), gossip, { fresh: true })
      ;[hostKey, host] = [nextKey, next]
    }
    expect(n.store.agents.count()).toBe(MAX)
    expect(stored()).toBe(MAX + 1) // the first host's log, taken past the bound; its registration refused
  })

  it('finds an agent’s first host in an index, not by walking the agents that name it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'quota-plan-'))
    try {
      const path = join(dir, 'db.sqlite')
      openStore({ path, custodyKey: new Uint8Array(32).fill(7), custodyKeySource: 'test' }).close()
      const db = new Database(path, { readonly: true })
      const sql = 'SELECT 1 FROM agents WHERE controller = ? AND first_controller = ? LIMIT 1'
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('a', 'a') as { detail: string }[]
      db.close()
      expect(plan.map((p) => p.detail).join()).toMatch(
        /COVERING INDEX agents_controller_first \(controller=\? AND first_controller=\?\)/,
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('counts a DID once when its log came from the mesh and it then registers as the node’s own', () => {
    // a last review: an agent moving here with its own key was counted as an agent and as a log for 10 minutes
    const host = n.did
    const mover = kitAgent(n.random, n.clock.ms, { controller: host, peerId: 'p' })
    expect(ingest.ingest(mover.icp, gossip, { fresh: true }).ok).toBe(true) // its log, from the mesh
    const local = { kind: 'local' } as const
    expect(ingest.ingest(mover.icp, local, { fresh: false }).ok).toBe(false) // registerExternal: a duplicate
    expect(ingest.ingest(mover.reg, local, { fresh: false }).ok).toBe(true)
    for (let i = 2; i < MAX; i++) {
      const filler = kitAgent(n.random, n.clock.ms, { controller: n.did, peerId: 'p' })
      expect(ingest.ingest(filler.reg, gossip, { fresh: true }).ok).toBe(true)
    }
    n.clock.advance(20_000) // the agents are counted again, the logs are not (every 10 minutes)
    expect(stored()).toBe(MAX - 1)
    expect(quota.isFull()).toBe(false)
    // and the node's own custodied agents (icp, then reg, both its own) count once too
    const own = kitAgent(n.random, n.clock.ms, { controller: n.did, peerId: 'p' })
    n.store.custody.put({
      did: own.did,
      seed: toB64(own.key.seed),
      nextSeed: toB64(own.next.seed),
      createdAt: n.clock.ms,
    })
    expect(ingest.ingest(own.icp, local, { fresh: false }).ok).toBe(true)
    expect(ingest.ingest(own.reg, local, { fresh: false }).ok).toBe(true)
    expect(stored()).toBe(MAX)
    expect(quota.isFull()).toBe(true)
  })
})
