/**
 * An envelope's text must be I-JSON (docs/protocol.md §3; attack review 103):
 * SPEC §3 signs JCS (RFC 8785), whose input is I-JSON (RFC 7493: UTF-8, no
 * member name twice). The bytes gossipsub relays are the publisher's own, so
 * a text that JSON.parse reads one way (last name wins, bad bytes as U+FFFD)
 * and a SPEC-built reader another way is refused as MALFORMED, never
 * accepted and relayed. Inputs built with an own encoder from the SPEC text.
 */
import { createPrivateKey, sign as cSign, verify as cVerify, createPublicKey } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { decodeEnvelope, encodeEnvelope } from '../../../node/core/envelope.js'
import { acceptEnvelope, type AcceptanceContext } from '../../../node/core/acceptance.js'
import { MeshGossip, type MeshGossipComponents } from '../../../node/services/mesh-gossip.js'
import { kitAgent, kitNode, type KitNode } from '../../helpers/service-kit.js'

const A = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
function b58(bytes: Uint8Array): string {
  let n = 0n
  for (const b of bytes) n = n * 256n + BigInt(b)
  let s = ''
  while (n > 0n) {
    s = A[Number(n % 58n)] + s
    n /= 58n
  }
  return s
}
const hex = (s: string): Buffer => Buffer.from(s, 'hex')
const seed = hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60') // RFC 8032 TEST 1
const pub = hex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a')
const to = 'did:msig:' + b58(hex('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c'))
const from = 'did:msig:' + b58(pub)
const priv = createPrivateKey({
  key: Buffer.concat([hex('302e020100300506032b657004220420'), seed]),
  format: 'der',
  type: 'pkcs8',
})
const input = (jcs: string): Buffer => Buffer.concat([Buffer.from([0xff]), Buffer.from('meshsig/v1/msg\n' + jcs)])
const jcsOf = (body: string): string =>
  `{"body":${JSON.stringify(body)},"from":"${from}","nonce":"AAECAwQFBgcICQoLDA0ODw==","to":"${to}","ts":1764000000000,"type":"msg","v":1}`

const ctx: AcceptanceContext = {
  now: 1764000000000,
  maxSkewMs: 300000,
  keyState: () => undefined,
  controllerOf: () => undefined,
  nonceSeen: () => false,
  hasEnvelope: () => false,
  eventIdAt: () => undefined,
}

describe('SPEC §3: an envelope text with a repeated member', () => {
  // signed over the body "pay 1"; the wire text also carries "pay 1000000" first
  const sig = cSign(null, input(jcsOf('pay 1')), priv).toString('base64')
  const wire = `{"v":1,"type":"msg","from":"${from}","to":"${to}","body":"pay 1000000","body":"pay 1","ts":1764000000000,"nonce":"AAECAwQFBgcICQoLDA0ODw==","sig":"${sig}"}`

  it('means two different messages to two SPEC-conforming readers', () => {
    // a first-wins reader rebuilds the signing input from "pay 1000000": the signature does not verify for it
    const firstWins = cVerify(null, input(jcsOf('pay 1000000')), createPublicKey(priv), Buffer.from(sig, 'base64'))
    expect(firstWins).toBe(false)
  })

  it('is refused as MALFORMED, as RFC 8785 / I-JSON require ', () => {
    let verdict: ReturnType<typeof acceptEnvelope> | undefined
    let code: string | undefined
    try {
      verdict = acceptEnvelope(decodeEnvelope(wire), ctx, { fresh: true })
    } catch (err) {
      code = (err as { code?: string }).code
    }
    // before: decodeEnvelope kept the last "body", the signature verified, verdict.ok === true
    expect(verdict?.ok === true ? 'accepted' : (code ?? verdict?.error.code)).toBe('MALFORMED')
  })
})

// The gossip validator takes the publisher's bytes as they are; gossipsub relays those same bytes on 'accept'.

describe('SPEC §3/§4: the gossip validator and a msg text with a repeated member', () => {
  let n: KitNode
  let gossip: MeshGossip
  afterEach(() => {
    gossip.stop()
    n.close()
  })

  it('answers reject (MALFORMED), not accept-and-relay the ambiguous bytes ', () => {
    n = kitNode()
    const sync: MeshGossipComponents['sync'] = {
      isBanned: () => false,
      charge: () => undefined,
      sliceMs: 5_000,
      probe: () => Promise.resolve('differs'),
      round: async () => ({ accepted: 0, duplicates: 0, rejected: 0, held: 0, bytes: 0, passes: 1 }),
    }
    gossip = new MeshGossip({
      store: n.store,
      ingest: n.ingest,
      sync,
      audit: { record: (input) => n.audit.append(input) },
      events: n.events,
      outbox: { publish: () => Promise.resolve(0) },
      onError: () => undefined,
    })
    const a = kitAgent(n.random, n.clock.ms, { controller: n.did, peerId: n.peerId, name: 'a' })
    const b = kitAgent(n.random, n.clock.ms, { controller: n.did, peerId: n.peerId, name: 'b' })
    for (const e of [a.icp, a.reg, b.icp, b.reg])
      expect(n.ingest.ingest(e, { kind: 'gossip', peer: 'p' }, { fresh: false }).ok).toBe(true)
    const aPriv = createPrivateKey({
      key: Buffer.concat([hex('302e020100300506032b657004220420'), Buffer.from(a.key.seed)]),
      format: 'der',
      type: 'pkcs8',
    })
    const ts = n.clock.ms
    const jcs = (body: string): string =>
      `{"body":${JSON.stringify(body)},"from":"${a.did}","nonce":"AAECAwQFBgcICQoLDA0ODw==","to":"${b.did}","ts":${ts},"type":"msg","v":1}`
    const sig = cSign(
      null,
      Buffer.concat([Buffer.from([0xff]), Buffer.from('meshsig/v1/msg\n' + jcs('pay 1'))]),
      aPriv,
    ).toString('base64')
    const wire = `{"v":1,"type":"msg","from":"${a.did}","to":"${b.did}","body":"pay 1000000","body":"pay 1","ts":${ts},"nonce":"AAECAwQFBgcICQoLDA0ODw==","sig":"${sig}"}`
    const verdict = gossip.validate('meshsig/v1/messages', Buffer.from(wire), 'publisher')
    // before: 'accept' (stored as "pay 1"; gossipsub forwards the text that first-wins readers see as "pay 1000000")
    expect(verdict).toBe('reject')
  })
})

describe('SPEC §3 (same class): envelope bytes that are not UTF-8', () => {
  it('are refused as MALFORMED, not read with U+FFFD in place of the bad bytes ', () => {
    // signed over a body holding U+FFFD; the wire carries a lone 0xFF byte there (not UTF-8, so not JSON text, RFC 8259 §8.1)
    const sig = cSign(null, input(jcsOf('pay \uFFFD')), priv).toString('base64')
    const head = Buffer.from(`{"v":1,"type":"msg","from":"${from}","to":"${to}","body":"pay `)
    const tail = Buffer.from(`","ts":1764000000000,"nonce":"AAECAwQFBgcICQoLDA0ODw==","sig":"${sig}"}`)
    const wire = Buffer.concat([head, Buffer.from([0xff]), tail])
    let outcome: string
    try {
      const v = acceptEnvelope(decodeEnvelope(wire), ctx, { fresh: true })
      outcome = v.ok ? 'accepted' : v.error.code
    } catch (err) {
      outcome = (err as { code?: string }).code ?? 'threw'
    }
    // before: 'accepted' (Buffer#toString('utf8') turned 0xFF into U+FFFD, and gossip relays the raw bytes)
    expect(outcome).toBe('MALFORMED')
  })
})

describe('what an I-JSON envelope text may still be', () => {
  const sig = cSign(null, input(jcsOf('pay 1')), priv).toString('base64')
  const fields = `"type":"msg","from":"${from}","to":"${to}","ts":1764000000000,"nonce":"AAECAwQFBgcICQoLDA0ODw==","sig":"${sig}"`

  it('any member order and whitespace: accepted, and re-encoded as JCS', () => {
    const wire = `{ "body" : "pay 1",\n ${fields}, "v":1 }`
    const v = acceptEnvelope(decodeEnvelope(Buffer.from(wire)), ctx, { fresh: true })
    expect(v.ok).toBe(true)
    const reencoded = Buffer.from(encodeEnvelope(decodeEnvelope(wire))).toString()
    expect(reencoded.startsWith('{"body":"pay 1","from":')).toBe(true)
  })

  it('a name spelt twice, once with an escape, is one name twice: MALFORMED', () => {
    const wire = `{"v":1,"bo\\u0064y":"pay 1000000","body":"pay 1",${fields}}`
    expect(() => decodeEnvelope(Buffer.from(wire))).toThrow(expect.objectContaining({ code: 'MALFORMED' }))
  })

  it('a byte order mark before the text: MALFORMED (JSON text does not start with one)', () => {
    const wire = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`{"v":1,"body":"pay 1",${fields}}`)])
    expect(() => decodeEnvelope(wire)).toThrow(expect.objectContaining({ code: 'MALFORMED' }))
    expect(acceptEnvelope(decodeEnvelope(wire.subarray(3)), ctx, { fresh: true }).ok).toBe(true)
  })
})
