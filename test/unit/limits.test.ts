// Limits an operator sets in $MESHSIG_LIMITS (node/limits.ts): bad or unknown ones are refused by name, and
// the renewal budget (docs/protocol.md §7, "Renewals") and the send deadline of HTTP answers (docs/api.md,
// decision 0046) cannot be set to a value that turns them off.
import { describe, expect, it } from 'vitest'
import { isMeshsigError } from '../../node/core/index.js'
import { DEFAULT_LIMITS, resolveLimits, type LimitsInit } from '../../node/limits.js'

/** The error code and message `resolveLimits(init)` throws. */
function refusal(init: unknown): { code: string; message: string } | undefined {
  try {
    resolveLimits(init as LimitsInit)
    return undefined
  } catch (err) {
    if (!isMeshsigError(err)) throw err
    return { code: err.code, message: err.message }
  }
}

describe('limits', () => {
  it('override the defaults group by group', () => {
    const limits = resolveLimits({ registry: { maxAgents: 7 } })
    expect(limits.registry).toEqual({ ...DEFAULT_LIMITS.registry, maxAgents: 7 })
    expect(limits.relay).toEqual(DEFAULT_LIMITS.relay)
  })

  it('refuse unknown names and values that are not integers ≥ 0, naming the limit', () => {
    expect(refusal({ registry: { maxAgent: 7 } })).toEqual({
      code: 'INVALID_INPUT',
      message: 'limit registry.maxAgent is not a limit',
    })
    expect(refusal({ relay: { windowMs: -1 } })?.message).toBe('limit relay.windowMs must be an integer ≥ 0')
    expect(refusal({ relay: { windowMs: 1.5 } })?.message).toBe('limit relay.windowMs must be an integer ≥ 0')
  })

  it('refuse a renewal budget of 0 registrations or a 0 ms window: either would turn the budget off', () => {
    for (const name of ['renewalsPerDid', 'renewalWindowMs'])
      expect(refusal({ registry: { [name]: 0 } })).toEqual({
        code: 'INVALID_INPUT',
        message: `limit registry.${name} must be an integer ≥ 1`,
      })
    expect(resolveLimits({ registry: { renewalsPerDid: 1, renewalWindowMs: 1 } }).registry.renewalsPerDid).toBe(1)
  })

  it('refuse a send deadline of 0 ms (it would turn the deadline off) and a proven share over 100 %', () => {
    expect(refusal({ http: { sendStallMs: 0 } })).toEqual({
      code: 'INVALID_INPUT',
      message: 'limit http.sendStallMs must be an integer ≥ 1',
    })
    expect(refusal({ stream: { provenPercent: 101 } })?.message).toBe('limit stream.provenPercent must be ≤ 100')
    const limits = resolveLimits({ http: { sendStallMs: 1 }, stream: { provenPercent: 100 } })
    expect(limits.http.sendStallMs).toBe(1)
    expect(limits.stream).toEqual({ ...DEFAULT_LIMITS.stream, provenPercent: 100 })
  })

  it('refuse a discovery queue of 0 provides at a time (every type would wait for good); 0 provided types is none', () => {
    expect(resolveLimits({}).discovery).toEqual(DEFAULT_LIMITS.discovery)
    expect(refusal({ discovery: { provideConcurrency: 0 } })?.message).toBe(
      'limit discovery.provideConcurrency must be an integer ≥ 1',
    )
    expect(resolveLimits({ discovery: { providedTypes: 0 } }).discovery.providedTypes).toBe(0)
  })

  it('refuse a discovery serving window of 0 ms (it would bound nothing); 0 served requests answers no peer', () => {
    expect(DEFAULT_LIMITS.discovery).toMatchObject({ servedPerPeer: 120, serveWindowMs: 60_000 })
    expect(refusal({ discovery: { serveWindowMs: 0 } })?.message).toBe(
      'limit discovery.serveWindowMs must be an integer ≥ 1',
    )
    expect(resolveLimits({ discovery: { servedPerPeer: 0 } }).discovery.servedPerPeer).toBe(0)
  })

  it('refuse a proxy allowed no pending redirect check, buffered request or signed request: it would refuse every caller', () => {
    expect(resolveLimits({}).proxy).toEqual(DEFAULT_LIMITS.proxy)
    for (const name of ['pendingRedirectChecks', 'bufferedRequestsPerListener', 'signedRequestsPerMinute'])
      expect(refusal({ proxy: { [name]: 0 } })?.message).toBe(`limit proxy.${name} must be an integer ≥ 1`)
    expect(resolveLimits({ proxy: { pendingRedirectChecks: 1 } }).proxy.pendingRedirectChecks).toBe(1)
  })

  it('refuse a handshake window of 0 ms (it would bound nothing); 0 challenges per peer answers no peer', () => {
    expect(resolveLimits({}).handshake).toEqual(DEFAULT_LIMITS.handshake)
    for (const name of ['windowMs', 'repeatWindowMs'])
      expect(refusal({ handshake: { [name]: 0 } })?.message).toBe(`limit handshake.${name} must be an integer ≥ 1`)
    expect(resolveLimits({ handshake: { perPeerChallenges: 0 } }).handshake).toEqual({
      ...DEFAULT_LIMITS.handshake,
      perPeerChallenges: 0,
    })
  })

  it('refuse a witness serving window of 0 ms (it would bound nothing); 0 frames, logs or idle time are allowed', () => {
    expect(DEFAULT_LIMITS.witness).toEqual({
      servedPerPeer: 120,
      evidencePerPeer: 60,
      serveWindowMs: 60_000,
      origins: 1024,
      idleOriginMs: 7 * 24 * 3_600_000,
      unknownEvidencePerWindow: 16,
      unknownEvidenceWindowMs: 3_600_000,
    })
    expect(refusal({ witness: { serveWindowMs: 0 } })?.message).toBe(
      'limit witness.serveWindowMs must be an integer ≥ 1',
    )
    expect(refusal({ witness: { unknownEvidenceWindowMs: 0 } })?.message).toBe(
      'limit witness.unknownEvidenceWindowMs must be an integer ≥ 1',
    )
    const none = { servedPerPeer: 0, evidencePerPeer: 0, origins: 0, idleOriginMs: 0, unknownEvidencePerWindow: 0 }
    expect(resolveLimits({ witness: none }).witness).toEqual({ ...DEFAULT_LIMITS.witness, ...none })
  })
})
