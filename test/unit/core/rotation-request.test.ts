/**
 * The rotation request (node/core/rotation-request.ts, decision 0047): a
 * statement in a signing domain of its own, 0xFF || "meshsig/v1/rotreq\n" ||
 * JCS(request without sig), signed by the DID's current key. No plain
 * signature can be one (a plain signer refuses 0xFF), and it checks only on
 * the state, node and time it names.
 */
import { describe, expect, it } from 'vitest'
import {
  canonicalize,
  createInception,
  createRotationRequest,
  DEFAULT_MAX_SKEW_MS,
  domainSigningInput,
  fromB64,
  generateKeyPair,
  plainSigningRefusal,
  replayKeyEvents,
  verifyRotationRequest,
  verifySignature,
} from '../../../node/core/index.js'

const key = generateKeyPair()
const state = replayKeyEvents([createInception(key, 1_000, generateKeyPair())])
const node = `did:msig:${'4'.repeat(44)}`
const now = 1_000_000
const check = { state, node, now, maxSkewMs: DEFAULT_MAX_SKEW_MS }

describe('rotation request', () => {
  it('is signed over its own 0xFF domain, which a plain signer refuses to sign', () => {
    const req = createRotationRequest({ did: state.did, prev: state.lastId, node, ts: now }, key)
    const { sig, ...body } = req
    const input = domainSigningInput('rotreq', canonicalize(body))
    expect(input[0]).toBe(0xff)
    expect(Buffer.from(input.subarray(1, 19)).toString('utf8')).toBe('meshsig/v1/rotreq\n')
    expect(verifySignature(input, fromB64(sig, 'sig', 64), key.publicKey)).toBe(true)
    expect(plainSigningRefusal(input)).toBeDefined()
    expect(verifyRotationRequest(JSON.parse(JSON.stringify(req)), check)).toEqual(req)
  })

  it('checks only on the state, node and time window it names', () => {
    const make = (over: Partial<{ prev: string; node: string; ts: number }> = {}) =>
      createRotationRequest({ did: state.did, prev: state.lastId, node, ts: now, ...over }, key)
    const codeOf = (input: unknown, c = check): string | undefined => {
      try {
        verifyRotationRequest(input, c)
        return undefined
      } catch (err) {
        return (err as { code?: string }).code
      }
    }
    expect(codeOf(make())).toBeUndefined()
    expect(codeOf(make({ ts: now + DEFAULT_MAX_SKEW_MS + 1 }))).toBe('CLOCK_SKEW')
    expect(codeOf(make({ prev: 'cd'.repeat(32) }))).toBe('KEL_INVALID')
    expect(codeOf(make({ node: `did:msig:${'5'.repeat(44)}` }))).toBe('INVALID_INPUT')
    expect(codeOf({ ...make(), sig: make({ ts: now + 1 }).sig })).toBe('SIGNATURE_INVALID')
    expect(codeOf({ ...make(), type: 'rot' })).toBe('MALFORMED')
    expect(codeOf(null)).toBe('MALFORMED')
  })
})
