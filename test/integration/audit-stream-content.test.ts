/**
 * The NDJSON export after real traffic (audit-fixture: messages all three
 * ways and over gossip, a rotation, a revocation, refusals): at one signed
 * size it holds the same entries, messages and trust as the JSON export of
 * that size, each message line right after the entry of its acceptance;
 * the streaming verifier re-verifies every message and trust score; a
 * changed message body or trust score in the stream is caught and named.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NdjsonExportCheck } from '../../node/audit/export-stream-check.js'
import { auditScene, type AuditScene } from './audit-fixture.js'

let scene: AuditScene
let size: number
let lines: string[]
let json: { entries: unknown[]; messages: Array<{ id: string }>; agents: unknown[]; trust: { agents: unknown[] } }

function check(text: readonly string[]): ReturnType<NdjsonExportCheck['finish']> {
  const checker = new NdjsonExportCheck()
  for (const l of text) checker.line(l)
  return checker.finish()
}

describe('NDJSON export content after real traffic', () => {
  beforeAll(async () => {
    scene = await auditScene()
    const nd = await fetch(`${scene.fx.url}/audit/export`, { headers: { accept: 'application/x-ndjson' } })
    expect(nd.headers.get('content-type')).toMatch(/^application\/x-ndjson/)
    lines = (await nd.text()).split('\n').filter((l) => l !== '')
    size = (JSON.parse(lines[0]!) as { size: number }).size
    json = (await (await fetch(`${scene.fx.url}/audit/export?size=${size}`)).json()) as typeof json
  }, 120_000)

  afterAll(async () => {
    await scene?.stop()
  })

  it('holds what the JSON export of the same size holds, messages after their acceptance', () => {
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
    const entries = parsed.filter((l) => l.type === 'entry').map((l) => l.entry)
    expect(entries).toEqual(json.entries)
    const messages = parsed.filter((l) => l.type === 'message').map((l) => l.message as { id: string })
    expect(messages.map((m) => m.id).sort()).toEqual(json.messages.map((m) => m.id).sort())
    expect(messages.length).toBeGreaterThan(3)
    parsed.forEach((l, i) => {
      if (l.type !== 'message') return
      const before = parsed[i - 1] as { type: string; entry: { kind: string; envelopeId: string } }
      expect(before.type).toBe('entry')
      expect(before.entry).toMatchObject({ kind: 'envelope.accepted', envelopeId: (l.message as { id: string }).id })
    })
    const end = parsed[parsed.length - 1] as { type: string; lists: { trustAgents: number } }
    expect(end.type).toBe('end')
    const trustAgents = parsed
      .filter((l) => l.type === 'trust' && l.of === 'agent')
      .map(({ type: _t, of: _o, ...row }) => row)
    expect(trustAgents).toEqual(json.trust.agents)
    expect(end.lists.trustAgents).toBe(trustAgents.length)
    const agents = parsed.filter((l) => l.type === 'agent').map((l) => l.agent)
    expect(agents).toEqual(json.agents)
  })

  it('verifies every message and score, and names a changed body or score', () => {
    const ok = check(lines)
    expect(ok).toMatchObject({ ok: true, messagesChecked: json.messages.length, problems: [] })
    expect(ok.scoresChecked).toBeGreaterThan(0)

    const i = lines.findIndex((l) => l.startsWith('{"type":"message"'))
    const m = JSON.parse(lines[i]!) as { message: { id: string; envelope: { body: string } } }
    m.message.envelope.body += '!'
    const body = check([...lines.slice(0, i), JSON.stringify(m), ...lines.slice(i + 1)])
    expect(body.ok).toBe(false)
    expect(body.problems.map((p) => p.subject)).toContain(m.message.id)

    const t = lines.findIndex((l) => l.startsWith('{"type":"trust","of":"agent"'))
    const agent = JSON.parse(lines[t]!) as { did: string; score: number }
    agent.score = agent.score === 1 ? 0.5 : 1
    const score = check([...lines.slice(0, t), JSON.stringify(agent), ...lines.slice(t + 1)])
    expect(score.ok).toBe(false)
    expect(score.problems).toContainEqual(expect.objectContaining({ kind: 'trust', subject: agent.did }))
  })
})
