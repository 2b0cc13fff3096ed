/**
 * Found by an attack review (the operator as the auditor's adversary): an
 * export of a real node after real traffic (audit-fixture: messages, a
 * rotation, a revocation) whose views were rewritten around an intact log.
 * What an auditor reads beside the log is checked against it, in the JSON
 * and the NDJSON form alike (docs/audit.md, "Verifying an export"):
 *
 * - a message's shown text, sender, recipient or time is its envelope's;
 * - a message is listed once;
 * - a DID the log records as revoked is shown revoked;
 * - a value that is not an object where one is expected is a problem named
 *   in the verdict, never a crash;
 * - a member written twice in one object (JSON.parse keeps the last, so what
 *   was hashed is not what a reader sees) is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkAuditExport, type ExportCheck } from '../../node/audit/export-check.js'
import { NdjsonExportCheck } from '../../node/audit/export-stream-check.js'
import { collectTrustEvidence, pairKey, TRUST_FORMULA, TRUST_FORMULA_V1, trustScore } from '../../node/core/index.js'
import { auditScene, type AuditScene } from './audit-fixture.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON documents edited in place
type Doc = Record<string, any>

let scene: AuditScene
let jsonText: string
let ndjson: string[]

const json = (): Doc => JSON.parse(jsonText) as Doc

function checkLines(lines: readonly string[]): ExportCheck {
  const checker = new NdjsonExportCheck()
  for (const l of lines) checker.line(l)
  return checker.finish()
}

/** The NDJSON lines with the line of `type` (the first one `pick` accepts) rewritten by `edit`. */
function editLine(type: string, edit: (line: Doc) => void, pick: (line: Doc) => boolean = () => true): string[] {
  const lines = [...ndjson]
  const i = lines.findIndex((l) => {
    const parsed = JSON.parse(l) as Doc
    return parsed.type === type && pick(parsed)
  })
  expect(i).toBeGreaterThan(0)
  const line = JSON.parse(lines[i]!) as Doc
  edit(line)
  lines[i] = JSON.stringify(line)
  return lines
}

const problemsOf = (check: ExportCheck): string[] => [
  ...check.problems.map((p) => p.message),
  ...check.log.problems.map((p) => p.message),
]

beforeAll(async () => {
  scene = await auditScene()
  const nd = await (await fetch(`${scene.fx.url}/audit/export?format=ndjson`)).text()
  ndjson = nd.split('\n').filter((l) => l !== '')
  const size = (JSON.parse(ndjson[0]!) as { size: number }).size
  jsonText = await (await fetch(`${scene.fx.url}/audit/export?size=${size}`)).text()
}, 120_000)

afterAll(async () => {
  await scene?.stop()
})

describe('an export whose views were rewritten around an intact log', () => {
  it('verifies untouched, in both forms (the control)', () => {
    expect(checkAuditExport(json())).toMatchObject({ ok: true, problems: [] })
    expect(checkLines(ndjson)).toMatchObject({ ok: true, problems: [] })
  })

  it("a message's shown text or recipient differs from its envelope: not verified, the field named", () => {
    const doc = json()
    doc.messages[0].message = 'transfer 10 000 EUR to mallory'
    const check = checkAuditExport(doc)
    expect(check.ok).toBe(false)
    expect(problemsOf(check)).toEqual([expect.stringMatching(/its message is not what its signed envelope says/)])
    const shown = (m: Doc): void => void (m.message.to = m.message.from)
    const lines = editLine('message', shown, (l) => l.message.to !== null)
    expect(problemsOf(checkLines(lines))).toEqual([expect.stringMatching(/its to is not what its signed envelope/)])
    const late = editLine('message', (l) => void (l.message.timestamp = new Date(0).toISOString()))
    expect(checkLines(late).ok).toBe(false)
  })

  it('a message listed twice (its count raised to match): not verified', () => {
    const doc = json()
    doc.messages.push(structuredClone(doc.messages[0]))
    doc.summary.totalMessages += 1
    const check = checkAuditExport(doc)
    expect(check.ok).toBe(false)
    expect(problemsOf(check)).toEqual([expect.stringMatching(/is listed more than once/)])
  })

  it('a DID the log records as revoked, shown active and left out of the revocation list: not verified', () => {
    const doc = json()
    const eve = doc.revoked[0] as { did: string }
    expect(doc.entries.some((e: Doc) => e.kind === 'agent.revoked' && e.subject === eve.did)).toBe(true)
    doc.revoked = []
    doc.agents.find((a: Doc) => a.did === eve.did).status = 'active'
    const check = checkAuditExport(doc)
    expect(check.ok).toBe(false)
    expect(problemsOf(check)).toEqual([
      `${eve.did} is revoked in the log but not in the revocation list`,
      `${eve.did} is revoked in the log but shown "active"`,
    ])
    // the NDJSON form: eve's revocation line taken out, and the end line's count of them made to match
    const hidden = editLine('end', (end) => void (end.lists.revoked -= 1)).filter(
      (l) => !(l.startsWith('{"type":"revoked"') && l.includes(eve.did)),
    )
    expect(problemsOf(checkLines(hidden))).toEqual([`${eve.did} is revoked in the log but not in the revocation list`])
  })

  it('list lines taken out, or added, without the end line saying so: not verified', () => {
    const cut = ndjson.filter((l) => !l.startsWith('{"type":"revoked"'))
    expect(cut.length).toBeLessThan(ndjson.length)
    expect(problemsOf(checkLines(cut))).toContain(`the end line counts 1 revoked lines; 0 came`)
    const i = ndjson.findIndex((l) => l.startsWith('{"type":"agent"'))
    const twice = [...ndjson.slice(0, i), ndjson[i]!, ...ndjson.slice(i)]
    expect(checkLines(twice).ok).toBe(false)
  })

  it('an export of format version 1 (the lists in the end line) still verifies, and its tampering is still found', () => {
    const lines = ndjson.map((l) => JSON.parse(l) as Doc)
    const rows = (type: string, of?: string): Doc[] =>
      lines.filter((l) => l.type === type && (of === undefined || l.of === of))
    const strip = ({ type: _t, of: _o, ...row }: Doc): Doc => row
    const end = lines.at(-1)!
    const v1End = {
      type: 'end',
      entries: end.entries,
      messages: end.messages,
      summary: end.summary,
      agents: rows('agent').map((l) => l.agent),
      connections: rows('connection').map((l) => l.connection),
      revoked: rows('revoked').map((l) => l.revoked),
      trust: {
        ...end.trust,
        agents: rows('trust', 'agent').map(strip),
        peers: rows('trust', 'peer').map(strip),
        connections: rows('trust', 'connection').map(strip),
      },
    }
    const header = { ...lines[0]!, format: 'meshsig-audit-ndjson/1', version: 1 }
    const listTypes = new Set(['agent', 'connection', 'revoked', 'trust'])
    const body = lines.slice(1, -1).filter((l) => !listTypes.has(l.type as string))
    const v1 = [header, ...body, v1End].map((l) => JSON.stringify(l))
    expect(checkLines(v1)).toMatchObject({ ok: true, problems: [] })
    const eve = (v1End.revoked[0] as { did: string }).did
    const hidden = [...v1.slice(0, -1), JSON.stringify({ ...v1End, revoked: [] })]
    expect(problemsOf(checkLines(hidden))).toEqual([`${eve} is revoked in the log but not in the revocation list`])
    // list lines in a version 1 export are not part of its format
    expect(checkLines([...v1.slice(0, -1), ndjson.find((l) => l.startsWith('{"type":"agent"'))!, v1.at(-1)!]).ok).toBe(
      false,
    )
  })

  it('null where an object is expected is a problem in the verdict, not a crash', () => {
    const doc = json()
    doc.messages.push(null)
    expect(checkAuditExport(doc).ok).toBe(false)
    for (const junk of ['null', '[]', '{"type":"message","message":null}']) {
      const lines = [...ndjson]
      lines.splice(1, 0, junk)
      expect(checkLines(lines).ok, junk).toBe(false)
    }
  })

  it('an entry line with a member written twice (a "kind" ahead of the hashed one): not verified', () => {
    const lines = [...ndjson]
    const i = lines.findIndex((l) => l.includes('"kind":"envelope.accepted"'))
    lines[i] = lines[i]!.replace('"entry":{', '"entry":{"kind":"agent.revoked",')
    expect(JSON.parse(lines[i]!)).toEqual(JSON.parse(ndjson[i]!)) // JSON.parse alone sees no change
    expect(problemsOf(checkLines(lines))).toContain(`line ${i + 1} repeats the member "kind"`)
  })

  it('an export made before decision 0051 verifies by the count of messages, when the auditor asks for that rule', () => {
    const doc = json()
    expect(doc.trust.formula).toBe(TRUST_FORMULA)
    const { pairsV1 = new Map() } = collectTrustEvidence(doc.entries, { legacyPairs: true })
    expect(doc.trust.connections.length).toBeGreaterThan(0)
    doc.trust.formula = TRUST_FORMULA_V1
    const counted = (a: string, b: string): Doc => {
      const e = pairsV1.get(pairKey(a, b)) ?? { successes: 0, failures: 0 }
      return { score: trustScore(e), successes: e.successes, failures: e.failures }
    }
    const newScores = doc.trust.connections.map((c: Doc) => c.score)
    for (const c of doc.trust.connections) Object.assign(c, counted(c.a, c.b))
    for (const c of doc.connections) Object.assign(c.trust, counted(c.fromDid, c.toDid))
    expect(doc.trust.connections.map((c: Doc) => c.score)).not.toEqual(newScores)
    expect(checkAuditExport(doc, { legacyTrust: true })).toMatchObject({ ok: true, problems: [] })
    // the formula's text is the operator's to write: without the auditor's word, it is a problem
    expect(problemsOf(checkAuditExport(doc))).toEqual([expect.stringMatching(/--legacy-trust/)])
    // and a version 2 NDJSON export naming it is never verified by the old rule
    const lines = editLine('end', (end) => void (end.trust.formula = TRUST_FORMULA_V1))
    const checker = new NdjsonExportCheck({ legacyTrust: true })
    for (const l of lines) checker.line(l)
    expect(checker.finish().ok).toBe(false)
  })

  it('trust rows taken out, written twice or with their DIDs swapped, and a connection’s own score: checked', () => {
    const doc = json()
    const [first] = doc.trust.peers
    doc.trust.peers = doc.trust.peers.slice(1)
    expect(problemsOf(checkAuditExport(doc))).toContainEqual(expect.stringMatching(/shows no trust row/))
    const twice = json()
    twice.agents.push(twice.agents[0])
    expect(problemsOf(checkAuditExport(twice))).toContainEqual(expect.stringMatching(/listed more than once in agents/))
    const swapped = json()
    const row = swapped.trust.connections[0]
    ;[row.a, row.b] = [row.b, row.a]
    row.score = 0.5
    expect(checkAuditExport(swapped).ok).toBe(false)
    const inner = json()
    inner.connections[0].trust.score = 0.99
    expect(checkAuditExport(inner).ok).toBe(false)
    expect(first).toBeDefined()
    // a version 2 end line holding lists as well: refused
    const both = editLine('end', (end) => void (end.revoked = []))
    expect(problemsOf(checkLines(both))).toContainEqual(expect.stringMatching(/end line holds lists/))
  })
})
