/**
 * The trust evidence the audit log keeps (node/audit/trust-ledger.ts) is,
 * for any history, exactly what the core recomputes from the entries: random
 * histories of accepted and refused envelopes (with rolled-back
 * transactions) appended through the real AuditLog on a SQLite store, then
 * every agent, peer and connection score compared with the core functions.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AuditLog, type AuditInput } from '../../node/audit/audit-log.js'
import {
  connectionTrustFromAuditEntries,
  didFromPublicKey,
  keyPairFromSeed,
  peerTrustFromAuditEntries,
  trustFromAuditEntries,
  type AuditEntry,
} from '../../node/core/index.js'
import { TrustService } from '../../node/services/trust.js'
import { openStore, type Store } from '../../node/store/index.js'
import { tempDir } from '../helpers/mesh.js'

const DIDS = [1, 2, 3, 4].map((i) => didFromPublicKey(keyPairFromSeed(new Uint8Array(32).fill(i)).publicKey))
const PEERS = ['12D3KooWPeerA', '12D3KooWPeerB', 'api:127.0.0.1']
const CODES = ['REPLAY', 'CLOCK_SKEW', 'ROTATED_KEY', 'SIGNATURE_INVALID', 'MALFORMED', 'REVOKED', 'KEY_MISMATCH']

const did = fc.constantFrom(...DIDS)
const peer = fc.option(fc.constantFrom(...PEERS), { nil: null })

interface Accepted {
  readonly from: string
  readonly to: string | null
  readonly peer: string | null
  readonly type: string
}
interface Rejected {
  readonly from: string
  readonly to: string | null
  readonly peer: string | null
  readonly code: string
  readonly via: string
}
type Fact = { fact: 'agent.registered' | 'agent.revoked' | 'duplicity' | 'checkpoint.inconsistent'; did: string }
type Step = { accepted: Accepted } | { rejected: Rejected } | Fact | { rollback: true }

const accepted: fc.Arbitrary<Accepted> = fc.record({
  from: did,
  to: fc.option(did, { nil: null }),
  peer,
  type: fc.constantFrom('msg', 'reg', 'chk'),
})
const rejected: fc.Arbitrary<Rejected> = fc.record({
  from: did,
  to: fc.option(did, { nil: null }),
  peer,
  code: fc.constantFrom(...CODES),
  via: fc.constantFrom('gossip', 'api', 'sync'),
})

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: accepted.map((a) => ({ accepted: a })) },
  { weight: 4, arbitrary: rejected.map((r) => ({ rejected: r })) },
  { weight: 1, arbitrary: fc.constant({ rollback: true as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      fact: fc.constantFrom(
        'agent.registered',
        'agent.registered',
        'agent.revoked',
        'duplicity',
        'checkpoint.inconsistent',
      ),
      did,
    }),
  },
)

function inputOf(s: Step): AuditInput {
  if ('fact' in s) return { kind: s.fact, subject: s.did, data: {} }
  if ('accepted' in s) {
    const a = s.accepted
    return {
      kind: 'envelope.accepted',
      subject: a.from,
      envelopeId: 'a'.repeat(64),
      data: { type: a.type, to: a.to, via: 'gossip', deliveredBy: a.peer },
    }
  }
  const r = (s as { rejected: Rejected }).rejected
  // attributableTo is set (by acceptance) on refusals a valid signature stands on; it charges nobody but the deliverer
  const attributable = ['REPLAY', 'CLOCK_SKEW', 'ROTATED_KEY'].includes(r.code)
  return {
    kind: 'envelope.rejected',
    subject: r.from,
    code: r.code,
    data: {
      type: 'msg',
      to: r.to,
      via: r.via,
      deliveredBy: r.peer,
      ...(attributable ? { attributableTo: r.from } : {}),
    },
  }
}

/** Append the steps; a rollback step appends one entry inside a transaction that then fails. */
function play(store: Store, log: AuditLog, steps: readonly Step[]): void {
  for (const s of steps) {
    if (!('rollback' in s)) {
      store.transaction(() => log.append(inputOf(s)))
      continue
    }
    expect(() =>
      store.transaction(() => {
        log.append(inputOf({ accepted: { from: DIDS[0]!, to: DIDS[1]!, peer: PEERS[0]!, type: 'msg' } }))
        throw new Error('rolled back')
      }),
    ).toThrow('rolled back')
  }
}

function entriesOf(store: Store): AuditEntry[] {
  return store.auditEntries.entries(0, 1_000_000).map((r) => JSON.parse(r.entry) as AuditEntry)
}

function expectReproducible(store: Store): void {
  const trust = new TrustService(store)
  const entries = entriesOf(store)
  for (const d of DIDS) {
    const mine = trust.agent(d).score
    expect(mine).toBe(trustFromAuditEntries(entries, d))
    expect(mine).toBeGreaterThanOrEqual(0)
    expect(mine).toBeLessThanOrEqual(1)
    for (const e of DIDS) expect(trust.connection(d, e).score).toBe(connectionTrustFromAuditEntries(entries, d, e))
  }
  for (const p of PEERS) expect(trust.peer(p).score).toBe(peerTrustFromAuditEntries(entries, p))
}

describe('trust evidence kept by the audit log', () => {
  it('equals the core formula over the entries for any history, rollbacks included (property)', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const store = openStore({ path: ':memory:' })
        try {
          play(store, new AuditLog(store, () => 1_764_000_000_000), steps)
          expectReproducible(store)
        } finally {
          store.close()
        }
      }),
      { numRuns: 150 },
    )
  })

  it('is rebuilt from the entries when a store lacks it (a database from before the evidence table)', () => {
    const { dir, cleanup } = tempDir()
    try {
      const path = `${dir}/node.db`
      let store = openStore({ path })
      const steps = fc.sample(fc.array(step, { minLength: 40, maxLength: 40 }), { numRuns: 1, seed: 7 })[0]!
      play(store, new AuditLog(store, () => 1), steps)
      const before = new TrustService(store).report()
      store.trust.clear()
      store.misc.setMetaValue('audit.trustSize', '0')
      store.close()
      store = openStore({ path })
      new AuditLog(store, () => 1).ensureTrust()
      expect(new TrustService(store).report()).toEqual(before)
      expectReproducible(store)
      store.close()
    } finally {
      cleanup()
    }
  })
})
