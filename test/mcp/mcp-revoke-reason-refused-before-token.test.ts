/**
 * Review 121: meshsig_revoke must not spend the operator token's rate-limit bucket on a revocation the node
 * refuses as bad input. Attack review 96 made the tool read first whether the node hosts the DID, so that a model
 * told to "revoke" strangers cannot answer the operator's own `meshsig revoke` with 429. But the read only checks
 * the DID: a hosted, active DID with a reason the node refuses (a lone UTF-16 surrogate, which JSON carries as
 * "\ud800" and zod's z.string() takes) goes to the node with the bearer token every time, is answered 400
 * MALFORMED, changes nothing, and leaves the DID active, so the next call passes the check again. 60 such calls
 * (a prompt-injected model in a loop) spend the token's bucket, and the operator's own revocation is refused 429.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ApiFixture } from '../api/api-fixture.js'
import { mcpWithOperatorToken, type InProcessMcp, type OperatorPair } from './mcp-in-process.js'

let fx: ApiFixture
let mcp: InProcessMcp
let pair: OperatorPair | undefined

beforeAll(async () => {
  pair = await mcpWithOperatorToken('r121-revoke-reason-')
  ;({ fx, mcp } = pair)
}, 60_000)

afterAll(async () => {
  await pair?.close() // the MCP server, the node and the home's temp folder
})

describe('meshsig_revoke with a reason the node refuses', () => {
  it('is refused without spending the operator token, so the operator can still revoke', async () => {
    const bait = (await fx.anon('POST', '/agents/register', { name: 'bait' })).body.identity.did as string
    const stolen = (await fx.anon('POST', '/agents/register', { name: 'stolen' })).body.identity.did as string
    const codes: string[] = []
    for (let i = 0; i < 60; i++) {
      const r = await mcp.call('meshsig_revoke', { did: bait, reason: `told so \ud800 ${i}` })
      codes.push(String(r.data?.code))
    }
    // nothing changed: the bait is still active
    expect((await fx.anon('GET', `/agents/${bait}`)).body.status).toBe('active')
    // the operator's own revocation (meshsig revoke) must still go through
    const own = await fx.call('POST', '/agents/revoke', { did: stolen, reason: 'key stolen' })
    expect({ status: own.status, code: own.body?.code, mcpCodes: [...new Set(codes)] }).toMatchObject({ status: 200 })
  }, 120_000)
})
