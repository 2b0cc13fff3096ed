/**
 * A message counts as re-verified only under a key its signer's own key
 * events in the export prove (docs/audit.md, "Verifying an export"): the
 * key its DID names (seq 0), or the key the signer's key event log, signed
 * by the signer, has at the seq the log names. A `key.rotated` entry is the
 * node's word; an operator who holds the node's keys can write one naming a
 * key of its own and then log a message "from" an agent signed with it.
 * Leaving the agent's key events out of the export (JSON: `keyEvents: []`,
 * NDJSON: no `keyEvent` lines under a header that still counts them) must
 * not turn that forgery into a verified message.
 */
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { checkAuditExport } from '../../node/audit/export-check.js'
import {
  createInception,
  createMessage,
  createRotation,
  didFromPublicKey,
  envelopeId,
  generateKeyPair,
  replayKeyEvents,
  toB64,
  type AuditEntry,
  type AuditEntryInit,
  type KeyPair,
} from '../../node/core/index.js'
import { checkNdjsonLines, ndjsonLines, syntheticExport, trustRowsOf } from '../helpers/synthetic-export.js'

const T0 = Date.now() - 60_000
const hex = (): string => randomBytes(32).toString('hex')

function registered(did: string, name: string, ts: number): AuditEntryInit {
  return {
    ts,
    kind: 'agent.registered',
    subject: did,
    envelopeId: hex(),
    code: null,
    data: { name, controller: did, capabilities: [] },
  }
}

/**
 * Agents X and Y registered; a `key.rotated` entry of X at `seq` naming
 * `signer`'s key (envelope id `rotId`), then the acceptance of a message
 * "from X" to Y signed by `signer`, and that message as the export lists it.
 */
function scene(opts: { signer?: KeyPair; seq?: number; x?: KeyPair; rotId?: string } = {}) {
  const x = opts.x ?? generateKeyPair()
  const y = generateKeyPair()
  const signer = opts.signer ?? generateKeyPair()
  const seq = opts.seq ?? 1
  const [xDid, yDid] = [didFromPublicKey(x.publicKey), didFromPublicKey(y.publicKey)]
  const env = createMessage(
    {
      from: xDid,
      to: yDid,
      body: 'I, X, approve the transfer of 1 000 000 EUR',
      ts: T0 + 30_000,
      nonce: randomBytes(16),
    },
    signer,
  )
  const id = envelopeId(env)
  const inits: AuditEntryInit[] = [
    registered(xDid, 'x', T0 + 1000),
    registered(yDid, 'y', T0 + 2000),
    {
      ts: T0 + 20_000,
      kind: 'key.rotated',
      subject: xDid,
      envelopeId: opts.rotId ?? hex(),
      code: null,
      data: { seq, key: toB64(signer.publicKey) },
    },
    {
      ts: T0 + 31_000,
      kind: 'envelope.accepted',
      subject: xDid,
      envelopeId: id,
      code: null,
      data: { type: 'msg', to: yDid, via: 'api', deliveredBy: 'api:127.0.0.1' },
    },
  ]
  const message = {
    id,
    from: xDid,
    to: yDid,
    message: env.body,
    signature: env.sig,
    nonce: env.nonce,
    ts: env.ts,
    timestamp: new Date(env.ts).toISOString(),
    verified: true,
    envelope: env,
    verification: {
      status: 'verified',
      auditIndex: 3,
      verifiedAt: new Date(T0 + 31_000).toISOString(), // the acceptance entry's time: the whole object is checked (review 125, L1)
      publicKey: toB64(signer.publicKey),
      keySeq: seq,
    },
  }
  return { x, xDid, xIcp: createInception(x, T0), message, inits }
}

/** The JSON export of `s` with `keyEvents`, trust rows and summary as an honest node writes them. */
function jsonExport(s: ReturnType<typeof scene>, keyEvents: unknown[]) {
  const b = syntheticExport(s.inits, { messages: [s.message], keyEvents }, undefined, T0 + 50_000)
  b.doc.trust = trustRowsOf(b.doc.entries as AuditEntry[])
  b.doc.summary = { totalMessages: 1, auditEntries: s.inits.length }
  return b
}

const problemText = (c: { problems: readonly { message: string }[] }): string =>
  c.problems.map((p) => p.message).join('\n')

describe('a message "from" an agent signed by a key a key.rotated entry alone asserts', () => {
  it('control: with the agent’s key events in the export, the forgery is named', () => {
    const s = scene()
    const check = checkAuditExport(jsonExport(s, [s.xIcp]).doc)
    expect(check.ok).toBe(false)
    expect(problemText(check)).toMatch(/key seq 1 of the signer's key event log/)
  })

  it('JSON: with the agent’s key events left out, the message is not re-verified', () => {
    const s = scene()
    const check = checkAuditExport(jsonExport(s, []).doc)
    expect(check.ok).toBe(false)
    expect(problemText(check)).toMatch(/the export holds no key event of its signer/)
  })

  it('JSON: a key.rotated entry at seq 0 naming another key than the DID’s is not proof either', () => {
    const s = scene({ seq: 0 })
    const check = checkAuditExport(jsonExport(s, []).doc)
    expect(check.ok).toBe(false)
    expect(problemText(check)).toMatch(/the export holds no key event of its signer/)
  })

  it('NDJSON: a header that counts one key event with none after it, and the forged message, fail', () => {
    const s = scene()
    const b = syntheticExport(s.inits, {}, undefined, T0 + 50_000)
    expect(checkNdjsonLines(ndjsonLines(b, { keyEvents: [s.xIcp], messages: [s.message] })).ok).toBe(false)
    const check = checkNdjsonLines(ndjsonLines(b, { keyEvents: [], headerKeyEvents: 1, messages: [s.message] }))
    expect(check.messagesChecked).toBe(1)
    expect(check.ok).toBe(false)
    const text = problemText(check)
    expect(text).toMatch(/the header counts 1 key events; 0 came/)
    expect(text).toMatch(/the export holds no key event of its signer/)
  })

  it('NDJSON: without the key events and with a header that counts none, the forged message still fails', () => {
    const s = scene()
    const b = syntheticExport(s.inits, {}, undefined, T0 + 50_000)
    const check = checkNdjsonLines(ndjsonLines(b, { keyEvents: [], messages: [s.message] }))
    expect(check.ok).toBe(false)
    expect(problemText(check)).toMatch(/the export holds no key event of its signer/)
  })

  it('NDJSON: a key event line the header does not count is reported too', () => {
    const x = generateKeyPair()
    const xDid = didFromPublicKey(x.publicKey)
    const b = syntheticExport([registered(xDid, 'x', T0)], {}, undefined, T0 + 50_000)
    const lines = ndjsonLines(b, { keyEvents: [createInception(x, T0)], headerKeyEvents: 0 })
    const check = checkNdjsonLines(lines)
    expect(check.ok).toBe(false)
    expect(problemText(check)).toMatch(/the header counts 0 key events; 1 came/)
  })
})

describe('an agent that really rotated (control: honest exports still verify)', () => {
  it('a message signed by its new key verifies in both forms when its key events are exported', () => {
    const x = generateKeyPair()
    const next = generateKeyPair()
    const icp = createInception(x, T0, next)
    const rot = createRotation(replayKeyEvents([icp]), x, next, T0 + 10_000)
    const s = scene({ x, signer: next, seq: 1, rotId: envelopeId(rot) })
    expect(checkAuditExport(jsonExport(s, [icp, rot]).doc).problems).toEqual([])
    expect(checkAuditExport(jsonExport(s, [icp, rot]).doc).ok).toBe(true)
    const b = syntheticExport(s.inits, {}, undefined, T0 + 50_000)
    const check = checkNdjsonLines(ndjsonLines(b, { keyEvents: [icp, rot], messages: [s.message] }))
    expect(check.problems).toEqual([])
    expect(check.ok).toBe(true)
  })

  it('a message signed by the key its DID names needs no key event (seq 0)', () => {
    const x = generateKeyPair()
    const s = scene({ x, signer: x, seq: 0 })
    expect(checkAuditExport(jsonExport(s, []).doc).ok).toBe(true)
  })
})
