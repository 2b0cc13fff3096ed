/**
 * The NDJSON audit export holds at most one page of key events at a time
 * (docs/audit.md; attack review of the local API, decision 0046): it used to
 * load every key event of the registry and join them into one chunk, kept
 * until the end line, so each export (open to every anonymous client, and
 * held for as long as a reader stalls) pinned memory growing with the
 * registry. Here 400 agents are registered (one inception each), the
 * export's generator is read chunk by chunk, and a registration made while
 * it runs is left out: the header counts the key events the export holds,
 * and the streaming verifier accepts it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ndjsonExport } from '../../node/audit/export-stream.js'
import { NdjsonExportCheck } from '../../node/audit/export-stream-check.js'
import { startApi, type ApiFixture } from '../api/api-fixture.js'
import { fillRegistry, signAgents } from '../helpers/registry-fill.js'

const AGENTS = 400
/** Entries read per page of the export (node/audit/export-stream.ts `PAGE`): key events come as many per chunk. */
const PAGE = 128
let fx: ApiFixture

beforeAll(async () => {
  fx = await startApi()
  fillRegistry(fx.node, signAgents(AGENTS, fx.node))
  expect((await fx.call('POST', '/audit/checkpoint')).status).toBe(201)
}, 120_000)

afterAll(async () => {
  await fx?.stop()
})

/** The export of the node's latest checkpoint, as `GET /audit/export?format=ndjson` builds it. */
function exportChunks(): Generator<string> {
  const { node } = fx
  return ndjsonExport(node.auditNdjson(), {
    header: {},
    agents: () => node.listAgents(),
    connections: () => node.connections(),
    revoked: () => node.revoked(),
    trustFormula: 'test',
    trustParams: {},
  })
}

const keyEventLines = (chunk: string): string[] => chunk.split('\n').filter((l) => l.startsWith('{"type":"keyEvent"'))

describe('NDJSON export of a registry', () => {
  it('reads its key events a page at a time (no chunk holds more than a page of them) and still verifies', async () => {
    const chunks = exportChunks()
    const header = JSON.parse(chunks.next().value as string) as { keyEvents: number }
    expect(header.keyEvents).toBeGreaterThan(AGENTS)
    const first = chunks.next().value as string
    // an agent registered while the export runs: its inception is stored after the export counted
    const late = (await fx.call('POST', '/agents/register', { name: 'late' })).body.identity.did as string
    const rest = [...chunks]
    const perChunk = [first, ...rest].map((c) => keyEventLines(c).length).filter((n) => n > 0)
    expect(Math.max(...perChunk), 'key events in the largest chunk').toBeLessThanOrEqual(PAGE)
    expect(
      perChunk.reduce((a, b) => a + b, 0),
      'key event lines, as the header counts',
    ).toBe(header.keyEvents)
    const events = [first, ...rest].flatMap(keyEventLines)
    expect(
      events.some((l) => l.includes(late)),
      'the late inception is among the key events',
    ).toBe(false)
    const checker = new NdjsonExportCheck()
    for (const l of [JSON.stringify(header), first, ...rest].join('\n').split('\n')) checker.line(l)
    expect(checker.finish(), 'the streaming verifier’s verdict').toMatchObject({ ok: true, problems: [] })
  })
})
