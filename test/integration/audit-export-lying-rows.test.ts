/**
 * An export whose trust and list rows were rewritten around an intact log
 * (review of aac6925): each case verified (or crashed the verifier) and is
 * now a named problem: a row's counts are the log's too, a row for a subject
 * the log never scored, a DID in another spelling, a subject that is not a
 * string, a connection's trust that is not a row.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkAuditExport } from '../../node/audit/export-check.js'
import { auditScene, type AuditScene } from './audit-fixture.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON documents edited in place
type Doc = Record<string, any>

let scene: AuditScene
let text: string
const doc = (): Doc => JSON.parse(text) as Doc
const alias = (did: string): string => did.replace('did:msig:', 'did:key:z')

beforeAll(async () => {
  scene = await auditScene()
  text = await (await fetch(`${scene.fx.url}/audit/export`)).text()
}, 120_000)

afterAll(async () => {
  await scene?.stop()
})

function verdict(d: Doc): { ok: boolean; threw?: string } {
  try {
    return { ok: checkAuditExport(d).ok }
  } catch (err) {
    return { ok: false, threw: String(err) }
  }
}

describe('lying trust and list rows around an intact log', () => {
  it('control: the export verifies untouched', () => {
    expect(verdict(doc())).toEqual({ ok: true })
  })

  it("a trust row's successes and failures are the log's (only score is compared)", () => {
    const d = doc()
    const row = d.trust.agents.find((r: Doc) => r.did === scene.alice)
    row.successes = 500
    row.failures = 0
    const conn = d.connections[0]
    conn.trust.successes = 40
    expect(verdict(d)).toEqual({ ok: false })
  })

  it('a trust row for a subject the log never scored (a made-up connection at 0.5) is a problem', () => {
    const d = doc()
    // the formula's prior for no evidence is 0.5: any row for an unscored subject "checks out"
    d.trust.connections.push({ a: scene.alice, b: 'did:msig:' + '1'.repeat(44), score: 0.5, successes: 0, failures: 0 })
    expect(verdict(d)).toEqual({ ok: false })
  })

  it('a revoked agent listed under its did:key spelling, shown active, is a problem', () => {
    const d = doc()
    const eve = d.revoked[0].did as string
    const row = d.agents.find((a: Doc) => a.did === eve)
    row.did = alias(eve)
    row.status = 'active'
    row.trustScore = 0.5 // what the log gives a string it never scored
    delete row.revokedAt
    delete row.revocationReason
    expect(verdict(d)).toEqual({ ok: false })
  })

  it('an agent listed twice, once in each spelling (or with a trailing space), is a problem', () => {
    const d = doc()
    const row = d.agents.find((a: Doc) => a.did === scene.alice)
    d.agents.push({ ...row, did: alias(scene.alice), trustScore: 0 })
    expect(verdict(d)).toEqual({ ok: false })
    const d2 = doc()
    const row2 = d2.agents.find((a: Doc) => a.did === scene.alice)
    d2.agents.push({ ...row2, did: scene.alice + ' ', trustScore: 0.5 })
    expect(verdict(d2)).toEqual({ ok: false })
  })

  it('a trust row or connection whose DIDs are not strings is a problem, not skipped', () => {
    const d = doc()
    d.trust.agents.push({ did: [scene.alice], score: 0.99, successes: 99, failures: 0 })
    expect(verdict(d)).toEqual({ ok: false })
    const d2 = doc()
    d2.connections[0].fromDid = [d2.connections[0].fromDid]
    d2.connections[0].trust.score = 0.99
    expect(verdict(d2)).toEqual({ ok: false })
  })

  it('a connection whose trust is null is a problem named in the verdict, not a crash', () => {
    const d = doc()
    d.connections[0].trust = null
    expect(verdict(d)).toEqual({ ok: false })
  })
})
