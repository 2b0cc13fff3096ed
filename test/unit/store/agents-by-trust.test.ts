// Discovery's reads (decision 0060; node/store/agent-query.ts): SQLite orders agents by the trust formula exactly
// as their records' `trustScore` orders them (ties: newest registration first), so `POST /discover` reads one
// page, and a peer's discovery request reads the node's own agents through their index, whatever else is stored.
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_TRUST_PARAMS, didFromPublicKey, generateKeyPair } from '../../../node/core/index.js'
import { TrustService } from '../../../node/services/trust.js'
import { ownAgentsByTrust } from '../../../node/store/agent-query.js'
import { openStore, type AgentQuery, type Store } from '../../../node/store/index.js'
import { tempDir } from '../../helpers/mesh.js'

const cleanups: (() => void)[] = []
afterEach(() => {
  while (cleanups.length) cleanups.pop()!()
})

/** A store on a file, and a second connection to it for what the repositories do not expose. */
function fileStore(): { store: Store; raw: Database.Database } {
  const { dir, cleanup } = tempDir()
  const store = openStore({ path: `${dir}/meshsig.db` })
  const raw = new Database(`${dir}/meshsig.db`)
  cleanups.push(
    cleanup,
    () => store.close(),
    () => raw.close(),
  )
  return { store, raw }
}

const CAPS = [
  [{ type: 'pay' }],
  [{ type: 'pay', confidence: 0.3 }],
  [{ type: 'pay', confidence: 0.9 }],
  [{ type: 'other' }],
]
/** Credit and failures as the audit log adds them: sums of 2^-n credits, whole failures, and plain fractions. */
const EVIDENCE: [number, number][] = [
  [1 / 256, 0],
  [0.5, 0],
  [1 / 3, 0],
  [2, 1],
  [7.99609375, 0],
  [0, 1],
  [3, 2],
  [0.1, 0],
]

/** 60 agents: every third own, four created at each instant, varied capabilities, evidence and revocations. */
function fill(store: Store, raw: Database.Database): void {
  for (let i = 0; i < 60; i++) {
    const did = didFromPublicKey(generateKeyPair().publicKey)
    const at = 1_000 * Math.floor(i / 4)
    store.agents.upsert({
      ...{ did, name: `a${i}`, capabilities: CAPS[i % CAPS.length]!, controller: did, peerId: 'p' },
      ...{ origin: i % 3 === 0 ? 'local' : 'remote', regId: `r${i}`, regEnvelope: '{}', regTs: at, createdAt: at },
      lastSeenAt: at,
    })
    const evidence = i % 5 === 0 ? undefined : EVIDENCE[i % EVIDENCE.length]
    if (evidence !== undefined) store.trust.add('did', did, ...evidence)
    if (i % 17 === 0) store.trust.add('revoked', did, 0, 1) // evidence of a revocation: the score is 0
    if (i % 13 === 0) raw.prepare("INSERT INTO key_states (did, state, revoked) VALUES (?, '{}', 1)").run(did)
  }
}

/** What discovery answered before: every matching active row, stably sorted by its record's score, then cut. */
function rankedInJs(store: Store, query: AgentQuery, limit: number): string[] {
  const trust = new TrustService(store)
  return store.agents
    .list({ ...query, status: 'active' })
    .map((row) => ({ did: row.did, score: trust.agent(row.did).score }))
    .sort((a, b) => b.score - a.score)
    .slice(0, limit)
    .map((a) => a.did)
}

describe('agents ranked by trust in SQLite', () => {
  it('orders exactly as the records’ trust scores do, ties newest first, and cuts at the limit', () => {
    const { store, raw } = fileStore()
    fill(store, raw)
    for (const query of [
      {},
      { capability: 'pay' },
      { capability: 'pay', minConfidence: 0.5 },
      { capability: 'other' },
    ]) {
      for (const limit of [1, 7, 25, 1_000]) {
        const rows = store.agents.byTrust({ ...query, status: 'active', limit }, DEFAULT_TRUST_PARAMS)
        expect(rows.map((r) => r.did)).toEqual(rankedInJs(store, query, limit))
      }
    }
    const scores = rankedInJs(store, {}, 1_000).map((did) => new TrustService(store).agent(did).score)
    expect(new Set(scores).size).toBeGreaterThan(5) // the fixture ranks by evidence, not only by ties
  })

  it('ranks the own active agents holding a type the same way, and no other', () => {
    const { store, raw } = fileStore()
    fill(store, raw)
    for (const [type, min] of [
      ['pay', 0],
      ['pay', 0.5],
      ['other', 0],
      ['none', 0],
    ] as const) {
      for (const limit of [1, 5, 100]) {
        const own = store.agents.ownByTrust(type, min, limit, DEFAULT_TRUST_PARAMS)
        expect(own.map((r) => r.did)).toEqual(
          rankedInJs(store, { capability: type, minConfidence: min, origin: 'local' }, limit),
        )
        expect(own.every((r) => r.origin === 'local')).toBe(true)
      }
    }
  })

  it('reads the own agents through their index and looks each one up by key, never the holders of the type', () => {
    const { store, raw } = fileStore()
    fill(store, raw)
    const { sql, params } = ownAgentsByTrust('pay', 0, 100, DEFAULT_TRUST_PARAMS)
    const plan = (raw.prepare('EXPLAIN QUERY PLAN ' + sql).all(...params) as { detail: string }[]).map((r) => r.detail)
    expect(plan).toContain('SCAN a USING INDEX agents_local')
    for (const step of plan) {
      expect(step).not.toMatch(/agent_capabilities_type|key_states_revoked|LIST SUBQUERY|MATERIALIZE|BLOOM/)
      if (step.startsWith('SCAN')) expect(step).toBe('SCAN a USING INDEX agents_local')
    }
  })
})
