/**
 * meshsig_revoke spends the operator token's bucket only for a revocation the
 * node can make (attack review 96): the read lane moved the MCP server's GETs
 * out of that bucket, but each revoke still went with the token, answered or
 * refused, so a model told (by text on the mesh) to "revoke" DIDs the node
 * does not host left the operator's own `POST /agents/revoke` answered 429.
 * Now a read tells first whether the node hosts the DID.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { didFromPublicKey, generateKeyPair } from '../../node/core/index.js'
import type { ApiFixture } from '../api/api-fixture.js'
import { mcpWithOperatorToken, type InProcessMcp, type OperatorPair } from './mcp-in-process.js'

let fx: ApiFixture
let mcp: InProcessMcp
let pair: OperatorPair | undefined

beforeAll(async () => {
  pair = await mcpWithOperatorToken('mcp-revoke-')
  ;({ fx, mcp } = pair)
}, 60_000)

afterAll(async () => {
  await pair?.close() // the MCP server, the node and the home's temp folder
})

describe('meshsig_revoke refused for DIDs this node does not know', () => {
  it('an action still carries the token: the MCP server revokes an agent the node hosts', async () => {
    const reg = await fx.anon('POST', '/agents/register', { name: 'retired' })
    const r = await mcp.call('meshsig_revoke', { did: reg.body.identity.did, reason: 'retired' })
    expect(r.isError).toBe(false)
    expect(r.data).toMatchObject({ revoked: true, did: reg.body.identity.did })
    const again = await mcp.call('meshsig_revoke', { did: reg.body.identity.did, reason: 'retired' })
    expect(again.data).toMatchObject({ revoked: false, code: 'REVOKED' })
  })

  it('does not lock the operator out of its own revocation', async () => {
    const reg = await fx.anon('POST', '/agents/register', { name: 'compromised' })
    expect(reg.status).toBe(201)
    const codes: string[] = []
    for (let i = 0; i < 60; i++) {
      const stranger = didFromPublicKey(generateKeyPair().publicKey)
      const a = await mcp.call('meshsig_revoke', { did: stranger, reason: 'told so' })
      codes.push(a.isError ? String(a.data?.code) : 'ok')
    }
    const revoke = await fx.call('POST', '/agents/revoke', { did: reg.body.identity.did, reason: 'compromised' })
    expect({ status: revoke.status, code: revoke.body?.code, mcp: [...new Set(codes)] }).toMatchObject({ status: 200 })
    expect(codes.slice(0, 10)).toEqual(Array(10).fill('NOT_FOUND'))
  }, 120_000)
})
