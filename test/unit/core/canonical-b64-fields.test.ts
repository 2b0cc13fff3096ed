/**
 * docs/protocol.md §1: base64 is canonical, the unused bits of the last
 * character zero, so every byte string has one spelling, in every field of
 * every wire shape, decoded or not (decision 0073). Found by review 103:
 * `next`, `chk.root` and `msg.nonce` are compared as text and took a second
 * spelling of the same bytes; an `icp` committing to SHA-256 of its next key
 * in such a spelling was taken, and then the rotation that reveals that very
 * key refused as PRE_ROTATION_MISMATCH, where a node built from the SPEC
 * (which compares bytes) takes it.
 */
import { createHash, createPrivateKey, sign as nodeSign } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { acceptEnvelope, type AcceptanceContext } from '../../../node/core/acceptance.js'
import { conformingIcp, conformingMsg } from '../../../node/core/envelope-fast.js'
import {
  B64_RE,
  chkSchema,
  createCheckpoint,
  createInception,
  createMessage,
  createRotation,
  createRotationRequest,
  fromB64,
  generateKeyPair,
  icpSchema,
  msgSchema,
  presenceSchema,
  receiptSchema,
  rotSchema,
  rotationRequestSchema,
  signPresence,
  signReceipt,
  toB64,
  type KeyState,
} from '../../../node/core/index.js'
import { createLogKeyBinding, logKeyBindingSchema } from '../../../node/core/log-key-binding.js'
import { handshakeWireSchema, proofSchema, signProof } from '../../../node/services/handshake-wire.js'
import { seededRandom } from '../../helpers/service-kit.js'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** The same bytes spelt with the lowest unused bit of the last character set (RFC 4648 decoders take both). */
function respelt(text: string): string {
  const at = text.replace(/=+$/, '').length - 1
  const other = text.slice(0, at) + ALPHABET[ALPHABET.indexOf(text[at]!) | 1] + text.slice(at + 1)
  expect(other).not.toBe(text)
  expect(Buffer.from(other, 'base64')).toEqual(Buffer.from(text, 'base64'))
  return other
}

describe('B64_RE', () => {
  it('takes exactly the one spelling Node encodes, for every tail length', () => {
    const random = seededRandom('b64')
    for (let n = 0; n <= 70; n++) {
      const text = toB64(random(n))
      expect(B64_RE.test(text)).toBe(true)
      if (text.endsWith('=')) expect(B64_RE.test(respelt(text))).toBe(false)
      expect(fromB64(text)).toHaveLength(n) // and the strict decoder agrees
    }
  })
})

describe('every base64 field of a wire shape refuses a second spelling', () => {
  const random = seededRandom('fields')
  const key = generateKeyPair(random)
  const next = generateKeyPair(random)
  const icp = createInception(key, 1_000, next)
  const did = icp.did
  const state: KeyState = {
    did,
    seq: 0,
    lastId: 'a'.repeat(64),
    key: icp.key,
    next: icp.next,
    priorKeys: [],
    revoked: null,
  }
  const proof = signProof(
    {
      v: 1,
      type: 'hs',
      role: 'initiator',
      did,
      peer: did,
      challenge: toB64(random(16)),
      nonce: toB64(random(16)),
      ts: 1,
    },
    key,
  )
  const cases: [string, { safeParse(x: unknown): { success: boolean } }, Record<string, unknown>, string][] = [
    ['msg.nonce', msgSchema, createMessage({ from: did, to: null, body: 'x', ts: 1, nonce: random(16) }, key), 'nonce'],
    ['msg.sig', msgSchema, createMessage({ from: did, to: null, body: 'x', ts: 1, nonce: random(16) }, key), 'sig'],
    ['icp.key', icpSchema, icp, 'key'],
    ['icp.next', icpSchema, icp, 'next'],
    ['rot.next', rotSchema, createRotation(state, key, next, 2_000, generateKeyPair(random)), 'next'],
    ['rot.sig2', rotSchema, createRotation(state, key, next, 2_000, generateKeyPair(random)), 'sig2'],
    ['chk.root', chkSchema, createCheckpoint(did, 5, random(32), 1, key), 'root'],
    ['rcp.sig', receiptSchema, signReceipt({ msg: 'b'.repeat(64), to: did, node: did, ts: 1 }, key), 'sig'],
    [
      'rotreq.sig',
      rotationRequestSchema,
      createRotationRequest({ did, prev: 'c'.repeat(64), node: did, ts: 1 }, key),
      'sig',
    ],
    ['logkeys.logKey', logKeyBindingSchema, createLogKeyBinding(did, random(32), random(32), 1, key), 'logKey'],
    ['logkeys.witnessKey', logKeyBindingSchema, createLogKeyBinding(did, random(32), random(32), 1, key), 'witnessKey'],
    ['logkeys.sig', logKeyBindingSchema, createLogKeyBinding(did, random(32), random(32), 1, key), 'sig'],
    ['prs.sig', presenceSchema, signPresence(key, 1), 'sig'],
    ['hs.challenge', proofSchema, proof, 'challenge'],
    ['hs.nonce', proofSchema, proof, 'nonce'],
    ['hs.sig', proofSchema, proof, 'sig'],
    [
      'challenge step nonce',
      handshakeWireSchema,
      { step: 'challenge', from: did, to: did, nonce: proof.nonce, ts: 1 },
      'nonce',
    ],
  ]
  it.each(cases)('%s', (_name, schema, valid, field) => {
    expect(schema.safeParse(valid).success).toBe(true)
    expect(schema.safeParse({ ...valid, [field]: respelt(valid[field] as string) }).success).toBe(false)
  })

  it('the hand-written checks of msg and icp refuse it too, and hand it to the schema', () => {
    const msg = createMessage({ from: did, to: null, body: 'x', ts: 1, nonce: random(16) }, key)
    expect(conformingMsg(msg)).toBeDefined()
    expect(conformingMsg({ ...msg, nonce: respelt(msg.nonce) })).toBeUndefined()
    expect(conformingIcp(icp)).toBeDefined()
    expect(conformingIcp({ ...icp, next: respelt(icp.next!) })).toBeUndefined()
  })
})

// Built from the SPEC text with node:crypto, none of meshsig's encoders (review 103).
describe('SPEC §3 pre-rotation: a commitment in a second spelling', () => {
  const hex = (s: string): Buffer => Buffer.from(s, 'hex')
  const seed = hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60') // RFC 8032 TEST 1
  const pub = hex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a')
  const nextPub = hex('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c') // TEST 2
  const pkcs8 = Buffer.concat([hex('302e020100300506032b657004220420'), seed])
  const did = 'did:msig:' + base58(pub)

  function base58(bytes: Uint8Array): string {
    const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
    let n = BigInt('0x' + Buffer.from(bytes).toString('hex'))
    let s = ''
    for (; n > 0n; n /= 58n) s = alphabet[Number(n % 58n)]! + s
    return s
  }
  /** JCS of a flat object of strings and integers: keys sorted. */
  const jcs = (o: Record<string, unknown>): string =>
    '{' +
    Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${JSON.stringify(o[k])}`)
      .join(',') +
    '}'
  function signed(body: Record<string, unknown>): Record<string, unknown> {
    const bytes = Buffer.concat([Buffer.from([0xff]), Buffer.from(`meshsig/v1/${String(body.type)}\n${jcs(body)}`)])
    return {
      ...body,
      sig: nodeSign(null, bytes, createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })).toString('base64'),
    }
  }

  it('is refused as MALFORMED at inception (before: taken, then the rotation refused PRE_ROTATION_MISMATCH)', () => {
    const commitment = createHash('sha256').update(nextPub).digest('base64')
    const body = {
      v: 1,
      type: 'icp',
      did,
      seq: 0,
      key: pub.toString('base64'),
      next: respelt(commitment),
      ts: 1_764_000_000_000,
    }
    const ctx: AcceptanceContext = {
      now: 1_764_000_000_000,
      maxSkewMs: 300_000,
      keyState: () => undefined,
      controllerOf: () => undefined,
      nonceSeen: () => false,
      hasEnvelope: () => false,
      eventIdAt: () => undefined,
    }
    const verdict = acceptEnvelope(signed(body), ctx, { fresh: false })
    expect(verdict.ok ? 'accepted' : verdict.error.code).toBe('MALFORMED')
    // the canonical spelling of the same commitment is taken
    expect(acceptEnvelope(signed({ ...body, next: commitment }), ctx, { fresh: false }).ok).toBe(true)
  })
})
