import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyAuditExport } from '../../node/core/index.js'
import { expectNo500, startApi, type ApiFixture } from './api-fixture.js'

describe('read-only endpoints', () => {
  let fx: ApiFixture
  let alpha: string
  let beta: string

  beforeAll(async () => {
    fx = await startApi()
    alpha = (
      await fx.call('POST', '/agents/register', {
        name: 'alpha',
        capabilities: [{ type: 'analysis', confidence: 0.9 }],
      })
    ).body.record.did
    beta = (await fx.call('POST', '/agents/register', { name: 'beta' })).body.record.did
    await fx.call('POST', '/messages/send', { fromDid: alpha, toDid: beta, message: 'hello beta' })
    await fx.call('POST', '/handshake', { fromDid: alpha, toDid: beta })
  })
  afterAll(async () => {
    expectNo500(fx)
    await fx.stop()
  })

  it('GET /health reports identity, addresses, uptime and version', async () => {
    const r = await fx.call('GET', '/health')
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ status: 'ok', name: fx.node.name, did: fx.node.did, version: expect.any(String) })
    expect(r.body.didKey).toMatch(/^did:key:z6Mk/)
    expect(r.body.peerId).toMatch(/^12D3KooW/)
    expect(r.body.multiaddrs.length).toBeGreaterThan(0)
    expect(typeof r.body.uptime).toBe('number')
  })

  it('GET /stats counts agents, messages, connections', async () => {
    const r = await fx.call('GET', '/stats')
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({
      agents: 2,
      active: 2,
      revoked: 0,
      connections: 1,
      messages: 1,
      localAgents: 2,
      remoteAgents: 0,
      peers: 0,
    })
    expect(r.body.auditEntries).toBeGreaterThan(0)
    expect(typeof r.body.uptime).toBe('number')
  })

  it('GET /snapshot holds node, stats, agents, connections, messages, peers, revoked', async () => {
    const r = await fx.call('GET', '/snapshot')
    expect(r.status).toBe(200)
    expect(Object.keys(r.body).sort()).toEqual([
      'agents',
      'connections',
      'messages',
      'node',
      'page',
      'peers',
      'revoked',
      'stats',
    ])
    expect(r.body.agents).toHaveLength(2)
    expect(r.body.messages[0].message).toBe('hello beta')
  })

  it('GET /agents lists records in the seed shape, wrapped', async () => {
    const r = await fx.call('GET', '/agents')
    expect(r.status).toBe(200)
    expect(r.body.total).toBe(2)
    const a = r.body.agents.find((x: { did: string }) => x.did === alpha)
    expect(a).toMatchObject({
      did: alpha,
      name: 'alpha',
      displayName: 'alpha',
      capabilities: [{ type: 'analysis', confidence: 0.9 }],
      status: 'active',
      origin: 'local',
      originServer: fx.node.did,
      online: true,
    })
    for (const k of [
      'publicKey',
      'trustScore',
      'interactionsTotal',
      'interactionsSuccess',
      'lastSeenAt',
      'createdAt',
    ]) {
      expect(a).toHaveProperty(k)
    }
    expect(JSON.stringify(r.body)).not.toMatch(/privateKey|seed/)
  })

  it('GET /agents filters by capability, origin, status and limit; bad query is 400', async () => {
    expect(
      (await fx.call('GET', '/agents?capability=analysis')).body.agents.map((a: { did: string }) => a.did),
    ).toEqual([alpha])
    expect((await fx.call('GET', '/agents?origin=remote')).body.total).toBe(0)
    expect((await fx.call('GET', '/agents?status=active&limit=1')).body.agents).toHaveLength(1)
    const bad = await fx.call('GET', '/agents?limit=abc')
    expect(bad.status).toBe(400)
    expect(bad.body.code).toBe('INVALID_INPUT')
    const extra = await fx.call('GET', '/agents?colour=red')
    expect(extra.status).toBe(400)
    expect(extra.body.code).toBe('INVALID_INPUT')
  })

  it('GET /agents/:did returns one record; did:key form works; unknown is 404, malformed 400', async () => {
    const r = await fx.call('GET', `/agents/${alpha}`)
    expect(r.status).toBe(200)
    expect(r.body.did).toBe(alpha)
    const info = (await fx.call('GET', '/health')).body
    expect((await fx.call('GET', `/agents/${info.didKey}`)).status).toBe(404)
    const unknown = await fx.call('GET', '/agents/did:msig:11111111111111111111111111111111')
    expect(unknown.status).toBe(404)
    expect(unknown.body.code).toBe('NOT_FOUND')
    const bad = await fx.call('GET', '/agents/did:msig:not-base58!')
    expect(bad.status).toBe(400)
    expect(bad.body.code).toBe('INVALID_DID')
  })

  it('GET /revoked, /connections, /messages, /peers wrap their lists', async () => {
    expect((await fx.call('GET', '/revoked')).body).toEqual({ revoked: [], total: 0 })
    const c = await fx.call('GET', '/connections')
    expect(c.body.connections).toHaveLength(1)
    expect(c.body.connections[0]).toMatchObject({ fromDid: alpha, toDid: beta, verified: true })
    const m = await fx.call('GET', `/messages?did=${beta}&limit=10`)
    expect(m.body.messages).toHaveLength(1)
    expect(m.body.messages[0]).toMatchObject({ from: alpha, to: beta, message: 'hello beta', verified: true })
    expect(m.body.messages[0].envelope.sig).toBe(m.body.messages[0].signature)
    expect((await fx.call('GET', '/messages?before=1')).body.messages).toEqual([])
    expect((await fx.call('GET', '/messages?limit=0')).status).toBe(400)
    expect((await fx.call('GET', '/peers')).body).toEqual({ peers: [], total: 0 })
  })

  it('GET /audit/export holds summary, agents, connections, messages with from/to/time/signature, key events, entries', async () => {
    const r = await fx.call('GET', '/audit/export')
    expect(r.status).toBe(200)
    expect(r.body.summary).toMatchObject({ totalAgents: 2, totalMessages: 1, verifiedMessages: 1, totalConnections: 1 })
    expect(r.body.messages[0]).toMatchObject({
      from: alpha,
      to: beta,
      signature: expect.any(String),
      timestamp: expect.any(String),
    })
    expect(r.body.keyEvents.length).toBeGreaterThanOrEqual(3)
    expect(r.body.entries.length).toBe(r.body.summary.auditEntries)
    expect(r.body.leafHashes.length).toBe(r.body.entries.length)
    expect(r.body.entries.some((e: { kind: string }) => e.kind === 'handshake')).toBe(true)
    // anyone can check the export offline: signed checkpoint, Merkle root, every entry
    const verdict = verifyAuditExport(r.body)
    expect(verdict.problems).toEqual([])
    expect(verdict.ok).toBe(true)
    expect(r.text).not.toMatch(/privateKey|"seed"/)
  })

  it('GET /metrics answers Prometheus text with requests, signatures, gossip, peers and audit size', async () => {
    const r = await fx.call('GET', '/metrics')
    expect(r.status).toBe(200)
    expect(r.headers['content-type']).toMatch(/^text\/plain/)
    for (const name of [
      'meshsig_http_requests_total',
      'meshsig_signatures_verified_total',
      'meshsig_signatures_rejected_total',
      'meshsig_gossip_envelopes_total',
      'meshsig_peers',
      'meshsig_audit_entries',
    ]) {
      expect(r.text).toContain(name)
    }
    expect(r.text).toMatch(/meshsig_http_requests_total\{method="POST",route="\/agents\/register",status="201"\} 2/)
    expect(r.text).toMatch(/^meshsig_witness_evidence_unrecorded_total 0$/m) // decision 0066, addendum
  })

  it('an unknown endpoint is 404 with {error, code}', async () => {
    const r = await fx.call('GET', '/nope')
    expect(r.status).toBe(404)
    expect(r.body).toEqual({ error: 'no endpoint GET /nope', code: 'NOT_FOUND' })
  })

  // last: it adds an agent and messages the tests above do not expect
  it('GET /messages?did= reports the filtered total, not the node’s (issue 12)', async () => {
    const gamma = (await fx.call('POST', '/agents/register', { name: 'gamma' })).body.record.did
    for (const message of ['one', 'two'])
      await fx.call('POST', '/messages/send', { fromDid: alpha, toDid: gamma, message })
    expect((await fx.call('GET', '/messages')).body.total).toBe(3)
    expect((await fx.call('GET', `/messages?did=${gamma}`)).body.total).toBe(2)
    expect((await fx.call('GET', `/messages?did=${beta}`)).body.total).toBe(1)
    expect((await fx.call('GET', `/messages?did=${alpha}`)).body.total).toBe(3)
    const page = (await fx.call('GET', `/messages?did=${gamma}&limit=1`)).body
    expect(page).toMatchObject({ total: 2, messages: [{ to: gamma }] })
  })
})
