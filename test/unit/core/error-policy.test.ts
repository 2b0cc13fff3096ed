/**
 * Error policy as data (issue 10): the one error table decides HTTP status,
 * exit code and behaviour, and every list of codes is derived from it.
 * These are the lists the node acts on; a code moved between them changes
 * what the mesh penalises or whom trust blames, so it shows up here.
 */
import { describe, expect, it } from 'vitest'
import { ERROR_TABLE, codesWhere, type ErrorCode } from '../../../node/core/errors.js'
import { ATTRIBUTABLE_CODES, FORGERY_CODES } from '../../../node/core/trust.js'
import { GOSSIP_REJECT_CODES } from '../../../node/services/ingest.js'

const sorted = (xs: Iterable<string>): string[] => [...xs].sort()

describe('behaviour lists derived from the error table', () => {
  it('gossip Reject: only codes that prove the delivering peer broke or forged something', () => {
    expect(sorted(GOSSIP_REJECT_CODES)).toEqual(
      sorted(['MALFORMED', 'SIGNATURE_INVALID', 'KEY_MISMATCH', 'PRE_ROTATION_MISMATCH', 'INVALID_DID', 'INVALID_KEY']),
    )
  })

  it('trust blames the deliverer for forgeries and never the DID for what a valid signature stands on', () => {
    expect(sorted(FORGERY_CODES)).toEqual(
      sorted([
        'SIGNATURE_INVALID',
        'KEY_MISMATCH',
        'UNKNOWN_SIGNER',
        'MALFORMED',
        'KEL_INVALID',
        'PRE_ROTATION_MISMATCH',
      ]),
    )
    expect(sorted(ATTRIBUTABLE_CODES)).toEqual(sorted(['REPLAY', 'CLOCK_SKEW', 'ROTATED_KEY']))
    expect(FORGERY_CODES.filter((c) => ATTRIBUTABLE_CODES.includes(c))).toEqual([])
  })

  it('lack of proof is 401/403, retryable is 429/502/504, and no behaviour column is set on a 5xx of our own', () => {
    for (const code of codesWhere((e) => e.lackOfProof === true)) expect([401, 403]).toContain(ERROR_TABLE[code].http)
    for (const code of codesWhere((e) => e.retryable === true))
      expect([429, 502, 504]).toContain(ERROR_TABLE[code].http)
    for (const [code, e] of Object.entries(ERROR_TABLE) as [ErrorCode, (typeof ERROR_TABLE)[ErrorCode]][]) {
      if (e.gossip === 'reject' || e.blame !== undefined) expect(e.http, code).toBeLessThan(500)
    }
  })
})
