/**
 * The export's key event logs are read once, not once per message (attack
 * review 87, F3): many messages, each under a key seq of its own, beside many
 * junk key events of their signer, cost work in proportion to the events
 * plus the messages, not their product. The work is counted as reads of the
 * key events' fields; no time is measured.
 */
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { checkAuditExport } from '../../node/audit/export-check.js'
import {
  createMessage,
  didFromPublicKey,
  envelopeId,
  generateKeyPair,
  toB64,
  type AuditEntryInit,
} from '../../node/core/index.js'
import { syntheticExport } from '../helpers/synthetic-export.js'

const T0 = Date.now() - 3_600_000

/** `m` messages of one signer, each after a `key.rotated` entry at a fresh seq, and its `n` junk key events (counted). */
function crafted(m: number, n: number) {
  const x = generateKeyPair()
  const k = generateKeyPair()
  const [xd, yd] = [didFromPublicKey(x.publicKey), didFromPublicKey(generateKeyPair().publicKey)]
  const inits: AuditEntryInit[] = []
  const messages: unknown[] = []
  for (let i = 0; i < m; i++) {
    const data = { seq: i + 1, key: toB64(k.publicKey) }
    const rotation = randomBytes(32).toString('hex')
    inits.push({ ts: T0 + i, kind: 'key.rotated', subject: xd, envelopeId: rotation, code: null, data })
    const env = createMessage({ from: xd, to: yd, body: 'b', ts: T0 + i, nonce: randomBytes(16) }, k)
    const id = envelopeId(env)
    inits.push({
      ts: T0 + i,
      kind: 'envelope.accepted',
      subject: xd,
      envelopeId: id,
      code: null,
      data: { type: 'msg', to: yd },
    })
    messages.push({ id, envelope: env })
  }
  const reads = { n: 0 }
  const junk = Array.from(
    { length: n },
    () =>
      new Proxy(
        { type: 'icp', did: xd, seq: 0, key: 'AAAA', next: null, ts: 0, sig: 'x' },
        {
          get(target, p, receiver): unknown {
            reads.n += 1
            return Reflect.get(target, p, receiver) as unknown
          },
        },
      ),
  )
  const b = syntheticExport(inits, {}, undefined, T0 + m + 10)
  return { doc: { ...b.doc, messages, keyEvents: junk }, reads }
}

describe('key event logs of an export, read once', () => {
  it('more events than a valid log holds: each read a bounded number of times, the DID proves no key', () => {
    const m = 200
    const n = 2000
    const { doc, reads } = crafted(m, n)
    const check = checkAuditExport(doc)
    expect(check.ok).toBe(false)
    expect(check.problems.length).toBe(m)
    expect(check.problems[0]!.message).toMatch(/holds 2000 events; a valid log holds at most 256/)
    // the depth bound reads each field once, the grouping its did: per message, at least m × n = 400 000
    expect(reads.n).toBeLessThanOrEqual(10 * n)
  })

  it('a log within the bound is replayed once, not once per message', () => {
    const m = 300
    const n = 200
    const { doc, reads } = crafted(m, n)
    const check = checkAuditExport(doc)
    expect(check.ok).toBe(false)
    expect(check.problems.length).toBe(m)
    expect(reads.n).toBeLessThanOrEqual(40 * n) // grouping, one sort, one replay; per message: at least m × n = 60 000
  })
})
