import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createAuditEntry, type AuditEntry, type AuditEntryInit } from '../../../node/core/audit-entry.js'
import { MalformedError } from '../../../node/core/errors.js'
import {
  ATTRIBUTABLE_CODES,
  collectTrustEvidence,
  connectionTrustFromAuditEntries,
  DEFAULT_TRUST_PARAMS,
  FORGERY_CODES,
  peerEvidenceOf,
  peerTrustFromAuditEntries,
  trustEvidenceOf,
  trustFromAuditEntries,
  trustScore,
} from '../../../node/core/trust.js'

const ALICE = 'did:msig:7Nc5aJjRK8VKMxqVHQ1kD4Ffab9FLVf9ej9jxjXHwGNR'
const BOB = 'did:msig:8Nc5aJjRK8VKMxqVHQ1kD4Ffab9FLVf9ej9jxjXHwGNR'
const CAROL = 'did:msig:9Nc5aJjRK8VKMxqVHQ1kD4Ffab9FLVf9ej9jxjXHwGNR'
const PEER = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
const T0 = 1_764_000_000_000
const HOUR = 3_600_000

type Event =
  | { t: 'sent'; from: string; to: string | null }
  | { t: 'blamed'; did: string; code: string; to?: string }
  | { t: 'forged'; claims: string; code: string }

function log(events: Event[], ts = (i: number): number => T0 + i): AuditEntry[] {
  return events.map((ev, i) => {
    const base = { ts: ts(i), envelopeId: null }
    let init: AuditEntryInit
    if (ev.t === 'sent') {
      const data = { type: 'msg', to: ev.to, via: 'gossip', deliveredBy: PEER }
      init = { ...base, kind: 'envelope.accepted', subject: ev.from, code: null, data }
    } else if (ev.t === 'blamed') {
      const data = { type: 'msg', via: 'gossip', deliveredBy: PEER, attributableTo: ev.did, to: ev.to ?? null }
      init = { ...base, kind: 'envelope.rejected', subject: ev.did, code: ev.code, data }
    } else {
      // A forgery names a victim as sender, but acceptance attributes it to nobody.
      init = { ...base, kind: 'envelope.rejected', subject: ev.claims, code: ev.code, data: { deliveredBy: PEER } }
    }
    return createAuditEntry(i, init)
  })
}

const sent = (n: number, from = ALICE, to: string | null = BOB): Event[] =>
  Array.from({ length: n }, () => ({ t: 'sent', from, to }))

describe('trustScore', () => {
  it('is (α + s) / (α + β + s + w·f) with α = β = 1, w = 2', () => {
    expect(DEFAULT_TRUST_PARAMS).toEqual({ alpha: 1, beta: 1, failureWeight: 2 })
    expect(trustScore({ successes: 0, failures: 0 })).toBe(0.5)
    expect(trustScore({ successes: 8, failures: 0 })).toBe(0.9)
    expect(trustScore({ successes: 0, failures: 1 })).toBe(0.25)
    expect(trustScore({ successes: 3, failures: 2 })).toBe(4 / 9)
    expect(trustScore({ successes: 3, failures: 2 }, { alpha: 2, beta: 3, failureWeight: 1 })).toBe(5 / 10)
  })

  it('refuses negative or non-finite evidence and bad parameters', () => {
    expect(() => trustScore({ successes: -1, failures: 0 })).toThrow(MalformedError)
    expect(() => trustScore({ successes: 0, failures: Number.NaN })).toThrow(MalformedError)
    expect(() => trustScore({ successes: Infinity, failures: 0 })).toThrow(MalformedError)
    expect(() => trustScore({ successes: 0, failures: 0 }, { alpha: 0, beta: 1, failureWeight: 2 })).toThrow(
      MalformedError,
    )
  })

  const count = fc.double({ min: 0, max: 1e9, noNaN: true })

  it('lies in [0, 1] (property)', () => {
    fc.assert(
      fc.property(count, count, (s, f) => {
        const score = trustScore({ successes: s, failures: f })
        expect(score).toBeGreaterThanOrEqual(0)
        expect(score).toBeLessThanOrEqual(1)
      }),
    )
  })

  it('never falls when verified messages grow (property)', () => {
    fc.assert(
      fc.property(count, count, count, (s, f, extra) => {
        expect(trustScore({ successes: s + extra, failures: f })).toBeGreaterThanOrEqual(
          trustScore({ successes: s, failures: f }),
        )
      }),
    )
  })

  it('only falls when failures grow (property)', () => {
    fc.assert(
      fc.property(fc.nat(1e6), fc.nat(1e6), fc.integer({ min: 1, max: 1e6 }), (s, f, more) => {
        expect(trustScore({ successes: s, failures: f + more })).toBeLessThan(trustScore({ successes: s, failures: f }))
      }),
    )
  })
})

describe('trustFromAuditEntries', () => {
  it('starts a DID nobody has seen at 0.5 and counts its verified messages', () => {
    expect(trustFromAuditEntries([], ALICE)).toBe(0.5)
    const entries = log([...sent(8), ...sent(3, BOB, ALICE), { t: 'sent', from: ALICE, to: null }])
    expect(trustEvidenceOf(entries, ALICE)).toEqual({ successes: 9, failures: 0 })
    expect(trustFromAuditEntries(entries, ALICE)).toBe(10 / 11)
    expect(trustFromAuditEntries(entries, BOB)).toBe(4 / 5)
  })

  it('counts only attributable rejections against a DID', () => {
    const entries = log([
      ...sent(3),
      { t: 'blamed', did: ALICE, code: 'REPLAY' },
      { t: 'blamed', did: ALICE, code: 'CLOCK_SKEW' },
      { t: 'blamed', did: ALICE, code: 'ROTATED_KEY' },
      { t: 'blamed', did: ALICE, code: 'SIGNATURE_INVALID' }, // wrongly attributed: ignored
      { t: 'forged', claims: ALICE, code: 'SIGNATURE_INVALID' },
    ])
    expect(trustEvidenceOf(entries, ALICE)).toEqual({ successes: 3, failures: 3 })
    expect(trustFromAuditEntries(entries, ALICE)).toBe(4 / 11)
    expect([...ATTRIBUTABLE_CODES].sort()).toEqual(['CLOCK_SKEW', 'REPLAY', 'ROTATED_KEY'])
  })

  it('never changes a DID score through forgeries in its name (property)', () => {
    const event = fc.oneof(
      fc.record({ t: fc.constant('sent' as const), from: fc.constantFrom(ALICE, BOB), to: fc.constant(CAROL) }),
      fc.record({
        t: fc.constant('blamed' as const),
        did: fc.constantFrom(ALICE, BOB),
        code: fc.constantFrom(...ATTRIBUTABLE_CODES),
      }),
    )
    const forgery = fc.record({
      t: fc.constant('forged' as const),
      claims: fc.constantFrom(ALICE, BOB),
      code: fc.constantFrom(...FORGERY_CODES, 'REVOKED', 'DUPLICATE'),
    })
    fc.assert(
      fc.property(
        fc.array(event, { maxLength: 30 }),
        fc.array(forgery, { maxLength: 30 }),
        fc.nat(),
        (evs, forged, k) => {
          const mixed: Event[] = [...evs]
          forged.forEach((f, i) => mixed.splice((k + i * 7) % (mixed.length + 1), 0, f))
          for (const did of [ALICE, BOB]) {
            expect(trustFromAuditEntries(log(mixed), did)).toBe(trustFromAuditEntries(log(evs), did))
          }
        },
      ),
    )
  })

  it('decays evidence by entry age when a half-life is given, from the newest entry by default', () => {
    const ts = (i: number): number => T0 + i * HOUR
    const entries = log([...sent(1), { t: 'blamed', did: ALICE, code: 'REPLAY' }, ...sent(1)], ts)
    expect(trustEvidenceOf(entries, ALICE, { halfLifeMs: HOUR })).toEqual({ successes: 1.25, failures: 0.5 })
    const later = { halfLifeMs: HOUR, asOf: T0 + 3 * HOUR }
    expect(trustEvidenceOf(entries, ALICE, later)).toEqual({ successes: 0.625, failures: 0.25 })
    expect(() => trustEvidenceOf(entries, ALICE, { halfLifeMs: 0 })).toThrow(MalformedError)
    // The same entries always give the same score: nothing reads the clock.
    expect(trustFromAuditEntries(entries, ALICE, { halfLifeMs: HOUR })).toBe(2.25 / 4.25)
  })
})

describe('per-peer and per-connection trust', () => {
  const entries = log([
    ...sent(4, ALICE, BOB),
    ...sent(2, BOB, ALICE),
    ...sent(5, ALICE, CAROL),
    { t: 'blamed', did: BOB, code: 'REPLAY', to: ALICE },
    { t: 'blamed', did: BOB, code: 'REPLAY', to: CAROL },
    { t: 'forged', claims: ALICE, code: 'SIGNATURE_INVALID' },
    { t: 'forged', claims: BOB, code: 'DUPLICATE' }, // not a forgery: gossip repeats are normal
  ])

  it('holds forgeries against the delivering peer', () => {
    expect(peerEvidenceOf(entries, PEER)).toEqual({ successes: 11, failures: 1 })
    expect(peerTrustFromAuditEntries(entries, PEER)).toBe(12 / 15)
    expect(peerTrustFromAuditEntries(entries, 'api:127.0.0.1')).toBe(0.5)
  })

  it('scores a connection by the verified messages between two DIDs', () => {
    // s = 4 + 2, f = 1 (Bob's replay to Alice); Bob's replay to Carol does not count here.
    expect(connectionTrustFromAuditEntries(entries, ALICE, BOB)).toBe(7 / 10)
    expect(connectionTrustFromAuditEntries(entries, BOB, ALICE)).toBe(7 / 10)
    expect(connectionTrustFromAuditEntries(entries, ALICE, CAROL)).toBe(6 / 7)
    expect(connectionTrustFromAuditEntries(entries, BOB, CAROL)).toBe(1 / 4)
  })

  it('gathers every DID and peer in one pass, agreeing with the per-DID functions', () => {
    const ledger = collectTrustEvidence(entries)
    for (const did of [ALICE, BOB, CAROL]) {
      expect(ledger.dids.get(did) ?? { successes: 0, failures: 0 }).toEqual(trustEvidenceOf(entries, did))
    }
    expect(ledger.peers.get(PEER)).toEqual(peerEvidenceOf(entries, PEER))
    const decayed = collectTrustEvidence(entries, { halfLifeMs: 5 })
    expect(decayed.dids.get(BOB)).toEqual(trustEvidenceOf(entries, BOB, { halfLifeMs: 5 }))
  })
})
