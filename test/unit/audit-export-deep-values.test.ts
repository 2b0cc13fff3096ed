/**
 * Deep values anywhere in an export (messages, envelopes, key events,
 * checkpoints, notes, lists, entry fields, whole NDJSON lines) give a verdict
 * that does not verify, never a stack overflow: node/audit/untrusted-value.ts.
 */
import { describe, expect, it } from 'vitest'
import { checkAuditExport } from '../../node/audit/export-check.js'
import {
  checkNdjsonLines,
  nestedArray,
  nestedObject,
  ndjsonLines,
  onePeerJoinedExport,
} from '../helpers/synthetic-export.js'

const deep = nestedObject
const deepArr = nestedArray
const N = 50_000

const base = onePeerJoinedExport

const places: Array<[string, (d: Record<string, unknown>) => void]> = [
  ['messages[0]', (d) => (d.messages = [deep(N)])],
  ['messages[0].envelope', (d) => (d.messages = [{ id: 'x', envelope: deep(N) }])],
  ['messages[0].verification', (d) => (d.messages = [{ id: 'x', envelope: {}, verification: deep(N) }])],
  ['keyEvents[0]', (d) => (d.keyEvents = [deep(N)])],
  ['keyEvents[0] with did', (d) => (d.keyEvents = [{ did: 'did:msig:x', seq: 0, type: 'icp', key: deep(N) }])],
  ['agents', (d) => (d.agents = [deep(N)])],
  ['agents arr', (d) => (d.agents = deepArr(N))],
  ['trust', (d) => (d.trust = { agents: [deep(N)] })],
  ['summary', (d) => (d.summary = { failedVerifications: deep(N) })],
  ['summary itself', (d) => (d.summary = deep(N))],
  ['checkpoints', (d) => (d.checkpoints = [deep(N)])],
  ['checkpoint', (d) => (d.checkpoint = deep(N))],
  [
    'entry top-level extra',
    (d) =>
      ((d.entries as Record<string, unknown>[])[0] = {
        ...(d.entries as Record<string, unknown>[])[0],
        extra: deep(N),
      }),
  ],
  [
    'entry subject',
    (d) =>
      ((d.entries as Record<string, unknown>[])[0] = {
        ...(d.entries as Record<string, unknown>[])[0],
        subject: deep(N),
      }),
  ],
  ['entry itself', (d) => ((d.entries as Record<string, unknown>[])[0] = deepArr(N) as Record<string, unknown>)],
  ['leafHashes', (d) => (d.leafHashes = [deep(N)])],
  ['note', (d) => (d.note = deep(N))],
  ['logKeys', (d) => (d.logKeys = deep(N))],
  ['revoked', (d) => (d.revoked = [deep(N)])],
  ['connections', (d) => (d.connections = [deep(N)])],
]

describe('JSON export: deep structures outside entry.data', () => {
  for (const [name, mutate] of places) {
    it(name, () => {
      const b = base()
      const doc = structuredClone(b.doc) as Record<string, unknown>
      mutate(doc)
      let err: unknown
      let ok: boolean | undefined
      try {
        ok = checkAuditExport(doc).ok
      } catch (e) {
        err = e
      }
      expect(err === undefined ? 'verdict' : String(err).slice(0, 200)).toBe('verdict')
      expect(ok).toBe(false)
    })
  }
})

describe('NDJSON: deep structures in lines (text built by hand)', () => {
  const D = `${'{"a":'.repeat(N)}1${'}'.repeat(N)}`
  const withField = (line: string, field: string): string => `${line.slice(0, -1)},"${field}":${D}}`
  const variants: Array<[string, (lines: string[]) => string[]]> = [
    ['keyEvent line', (l) => [l[0]!, `{"type":"keyEvent","event":${D}}`, ...l.slice(1)]],
    [
      'keyEvent did',
      (l) => [l[0]!, `{"type":"keyEvent","event":{"did":"did:msig:x","seq":0,"type":"icp","key":${D}}}`, ...l.slice(1)],
    ],
    ['message line', (l) => [...l.slice(0, -1), `{"type":"message","message":${D}}`, l.at(-1)!]],
    [
      'message envelope',
      (l) => [...l.slice(0, -1), `{"type":"message","message":{"id":"a","envelope":${D}}}`, l.at(-1)!],
    ],
    ['trust line', (l) => [...l.slice(0, -1), `{"type":"trust","of":"agent","did":${D}}`, l.at(-1)!]],
    ['agent line', (l) => [...l.slice(0, -1), `{"type":"agent","agent":${D}}`, l.at(-1)!]],
    ['end line summary', (l) => [...l.slice(0, -1), withField(l.at(-1)!, 'summary')]],
    ['end line extra', (l) => [...l.slice(0, -1), withField(l.at(-1)!, 'extra')]],
    ['header extra', (l) => [withField(l[0]!, 'extra'), ...l.slice(1)]],
    ['entry line extra', (l) => l.map((x) => (x.startsWith('{"type":"entry"') ? withField(x, 'extra') : x))],
    [
      'entry data',
      (l) => l.map((x) => (x.startsWith('{"type":"entry"') ? x.replace('"data":{', `"data":{"d":${D},`) : x)),
    ],
    ['whole line', (l) => [...l.slice(0, -1), `${'['.repeat(N)}${']'.repeat(N)}`, l.at(-1)!]],
  ]
  for (const [name, mutate] of variants) {
    it(name, () => {
      const lines = mutate(ndjsonLines(base()))
      let err: unknown
      let ok: boolean | undefined
      try {
        ok = checkNdjsonLines(lines).ok
      } catch (e) {
        err = e
      }
      expect(err === undefined ? 'verdict' : String(err).slice(0, 200)).toBe('verdict')
      expect(ok).toBe(false)
    })
  }
})
