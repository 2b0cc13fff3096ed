/**
 * Review 92 F4: the MCP server sent the operator token with every read once
 * the node had proved it holds it, so every read a model made counted
 * against the token's own rate-limit bucket: 60 `meshsig_agents` calls, and
 * the operator's own `POST /agents/revoke` of a compromised agent was
 * answered 429 for the rest of the minute. Now the MCP server sends the
 * token only with actions; its reads carry the token's read lane
 * (api/read-lane.ts, decision 0063), a bucket of their own: neither the
 * operator's nor the one every anonymous loopback caller shares.
 */
import type { IncomingMessage } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveApiOptions } from '../../api/options.js'
import { rateLimitKey } from '../../api/rate-limit.js'
import { READ_LANE_HEADER, readLaneMatcher, readLaneOf } from '../../api/read-lane.js'
import type { ApiFixture } from '../api/api-fixture.js'
import { mcpWithOperatorToken, type InProcessMcp, type OperatorPair } from './mcp-in-process.js'

let fx: ApiFixture
let mcp: InProcessMcp
let pair: OperatorPair | undefined

beforeAll(async () => {
  pair = await mcpWithOperatorToken('mcp-lane-')
  ;({ fx, mcp } = pair)
}, 60_000)

afterAll(async () => {
  await pair?.close() // the MCP server, the node and the home's temp folder
})

describe('the MCP server’s reads', () => {
  it('do not spend the operator token’s bucket, nor the anonymous one: they have a lane of their own', async () => {
    const reg = await fx.anon('POST', '/agents/register', { name: 'compromised' })
    expect(reg.status).toBe(201)
    const answers: string[] = []
    for (let i = 0; i < 61; i++) {
      const a = await mcp.call('meshsig_agents')
      answers.push(a.isError ? a.data.code : 'ok')
    }
    // the 61st read of the minute is the lane's own 61st: refused, as any client's would be
    expect(answers.slice(0, 60).every((a) => a === 'ok')).toBe(true)
    expect(answers.at(-1)).toBe('RATE_LIMITED')
    // the operator revokes the compromised agent (what `meshsig revoke <did>` sends)
    const revoke = await fx.call('POST', '/agents/revoke', { did: reg.body.identity.did, reason: 'compromised' })
    expect(revoke.status).toBe(200)
    // and anonymous loopback callers (a local agent sending with its key in the body) are not throttled either
    expect((await fx.anon('GET', '/stats')).status).toBe(200)
  }, 60_000)

  it('a revoke waits while the lane is spent: its first read is refused, nothing goes with the token', async () => {
    // meshsig_revoke reads whether the node hosts the DID before it sends the token (attack review 96)
    const reg = await fx.anon('POST', '/agents/register', { name: 'retired' })
    const r = await mcp.call('meshsig_revoke', { did: reg.body.identity.did, reason: 'retired' })
    expect(r.data).toMatchObject({ revoked: false, code: 'RATE_LIMITED' })
    expect((await fx.anon('GET', `/keys/${reg.body.identity.did}`)).body.revoked).toBe(false)
    // the operator's own bucket is untouched
    expect((await fx.call('POST', '/agents/revoke', { did: reg.body.identity.did, reason: 'retired' })).status).toBe(
      200,
    )
  })
})

describe('the read lane (api/read-lane.ts) in the rate limiter', () => {
  const opts = resolveApiOptions({ host: '127.0.0.1', token: 'operator-token-of-the-test-node' })
  const lane = readLaneMatcher(opts.token)
  const req = (method: string, headers: Record<string, string>): IncomingMessage =>
    ({ method, url: '/agents', headers, socket: { remoteAddress: '127.0.0.1' } }) as unknown as IncomingMessage
  const key = (r: IncomingMessage): string => rateLimitKey(r, opts, () => undefined, undefined, lane)

  it('counts a read with the lane of the node’s token in the lane, anything else where it counted before', () => {
    const own = readLaneOf('operator-token-of-the-test-node')
    expect(key(req('GET', { [READ_LANE_HEADER]: own }))).toBe('lane:read')
    expect(key(req('GET', { [READ_LANE_HEADER]: readLaneOf('another-token') }))).toBe('address:loopback')
    expect(key(req('GET', { [READ_LANE_HEADER]: 'x'.repeat(43) }))).toBe('address:loopback')
    expect(key(req('POST', { [READ_LANE_HEADER]: own }))).toBe('address:loopback')
    expect(key(req('GET', {}))).toBe('address:loopback')
    expect(readLaneMatcher(undefined)(req('GET', { [READ_LANE_HEADER]: own }))).toBe(false)
    // the lane is not the token, nor the token's proof
    expect(own).not.toContain('operator-token-of-the-test-node')
  })
})
