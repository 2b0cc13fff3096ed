/**
 * A value the verifier quotes in a problem (a summary count, the NDJSON
 * header's `keyEvents`, a trust row's `did` or `peer`, the end line's
 * `messages`) that nests deep gives a verdict that does not verify, never a
 * stack overflow (`String()` of a nested array and `JSON.stringify` of a
 * nested value recurse): node/audit/untrusted-value.ts.
 */
import { describe, expect, it } from 'vitest'
import { checkAuditExport, type ExportCheck } from '../../node/audit/export-check.js'
import { checkNdjsonLines, ndjsonLines, onePeerJoinedExport } from '../helpers/synthetic-export.js'

const N = 50_000
const A = `${'['.repeat(N)}${']'.repeat(N)}`
const O = `${'{"a":'.repeat(N)}1${'}'.repeat(N)}`
const deepArr = (): unknown => JSON.parse(A)
const deepObj = (): unknown => JSON.parse(O)
const base = onePeerJoinedExport

/** The verdict fails, for depth, and every problem line is short. */
function expectTooDeep(check: ExportCheck): void {
  expect(check.ok).toBe(false)
  const lines = [...check.log.problems, ...check.problems].map((p) => p.message)
  expect(lines.some((l) => /nests deeper than 256 levels/.test(l))).toBe(true)
  for (const l of lines) expect(l.length).toBeLessThan(500)
}

describe('JSON export: a quoted value nested deep', () => {
  const places: Array<[string, (d: Record<string, unknown>) => void]> = [
    ['summary.failedVerifications', (d) => (d.summary = { failedVerifications: deepArr(), totalMessages: 0 })],
    ['summary.totalMessages', (d) => (d.summary = { totalMessages: deepArr() })],
    ['trust.agents[0].did (object)', (d) => (d.trust = { agents: [{ did: deepObj() }] })],
    ['trust.agents[0].did (array)', (d) => (d.trust = { agents: [{ did: deepArr() }] })],
    ['agents[0].did', (d) => (d.agents = [{ did: deepObj() }])],
    ['trust.peers[0].peer', (d) => (d.trust = { peers: [{ peer: deepArr() }] })],
    ['trust.agents[0].score', (d) => (d.trust = { agents: [{ did: 'did:msig:x', score: deepArr() }] })],
    ['connections[0].fromDid', (d) => (d.connections = [{ fromDid: deepArr(), toDid: 'x' }])],
  ]
  for (const [name, mutate] of places) {
    it(`${name}: does not verify, the document too deep`, () => {
      const doc = structuredClone(base().doc) as Record<string, unknown>
      mutate(doc)
      expectTooDeep(checkAuditExport(doc))
    })
  }
})

describe('NDJSON: a quoted value nested deep', () => {
  const variants: Array<[string, (l: string[]) => string[]]> = [
    ['header keyEvents', (l) => [l[0]!.replace(/"keyEvents":0/, `"keyEvents":${A}`), ...l.slice(1)]],
    ['trust line did', (l) => [...l.slice(0, -1), `{"type":"trust","of":"agent","did":${O}}`, l.at(-1)!]],
    [
      'end line summary.failedVerifications',
      (l) => [...l.slice(0, -1), `${l.at(-1)!.slice(0, -1)},"summary":{"failedVerifications":${A}}}`],
    ],
    ['end line messages', (l) => [...l.slice(0, -1), l.at(-1)!.replace(/"messages":0/, `"messages":${A}`)]],
  ]
  for (const [name, mutate] of variants) {
    it(`${name}: does not verify, the line too deep`, () => {
      const lines = mutate(ndjsonLines(base()))
      expect(lines.join('\n').length).toBeGreaterThan(2 * N) // the mutation took
      expectTooDeep(checkNdjsonLines(lines))
    })
  }
})
