/**
 * Review 92 F5: `errorFrom` (api/client-errors.ts) spread the server's
 * `details` into the error's without checking it is an object: a string of
 * n characters became n properties ({"0":"a","1":"a",…}), and a 3.9 MB error
 * answer (under `SMALL_ANSWER_BYTES`) a 53.5 MB MCP tool result. Its message
 * was kept whole too, and a list request read an error answer within the
 * list's bound (512 MiB). The server here is not the node, with no token in
 * the home (the case whose answers are "the server's word", not its memory).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MeshsigClient } from '../../api/client.js'
import { errorFrom, MAX_ERROR_DETAILS, MAX_ERROR_MESSAGE } from '../../api/client-errors.js'
import { SMALL_ANSWER_BYTES } from '../../api/client-http.js'
import { mcpInProcess } from './mcp-in-process.js'

const root = mkdtempSync(join(tmpdir(), 'mcp-details-'))
const home = join(root, 'home')
let server: Server
let url = ''
let body = ''
let sent = 0

beforeAll(async () => {
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json')
    if (req.url?.startsWith('/health')) return res.end(JSON.stringify({ name: 'n', did: 'did:msig:x', version: '1' }))
    res.statusCode = 400
    sent += body.length
    res.end(body)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  await new Promise((r) => server.close(r))
  rmSync(root, { recursive: true, force: true })
})

describe('errorFrom', () => {
  it('keeps details only when they are a small plain object', () => {
    const asString = errorFrom(400, { error: 'x', code: 'INVALID_INPUT', details: 'abcdef' }, 'u')
    expect(asString.details).toEqual({ status: 400 })
    const asArray = errorFrom(400, { error: 'x', details: ['a', 'b'] }, 'u')
    expect(asArray.details).toEqual({ status: 400 })
    const small = errorFrom(400, { error: 'x', code: 'INVALID_INPUT', details: { field: 'name', limit: 128 } }, 'u')
    expect(small.details).toEqual({ field: 'name', limit: 128, status: 400 })
    const large = errorFrom(400, { error: 'x', details: { field: 'f'.repeat(MAX_ERROR_DETAILS) } }, 'u')
    expect(large.details).toEqual({ status: 400 })
    // the status is the one the client saw, whatever the details say
    expect(errorFrom(404, { error: 'x', details: { status: 200 } }, 'u').details).toEqual({ status: 404 })
  })

  it('cuts a long message and leaves out a did that is no DID', () => {
    const err = errorFrom(400, { error: 'e'.repeat(1_000_000), did: 'd'.repeat(1_000_000) }, 'u')
    expect(err.message.length).toBeLessThan(MAX_ERROR_MESSAGE + 64)
    expect(err.message).toContain('(1000000 characters in all)')
    expect(err.details).toEqual({ status: 400 })
    const did = errorFrom(403, { error: 'revoked', code: 'REVOKED', did: 'did:msig:abc' }, 'u')
    expect(did).toMatchObject({ code: 'REVOKED', details: { status: 403, did: 'did:msig:abc' } })
  })
})

describe("a server's error answer, through the SDK and the MCP server", () => {
  it('a 3.9 MB error answer gives a tool result of a few KB', async () => {
    body = JSON.stringify({ error: 'n'.repeat(100_000), code: 'INVALID_INPUT', details: 'a'.repeat(3_900_000) })
    const mcp = await mcpInProcess({ MESHSIG_HOME: home, MESHSIG_SERVER: url })
    const answer = await mcp.call('meshsig_stats')
    await mcp.close()
    expect(answer.isError).toBe(true)
    expect(answer.data).toMatchObject({ code: 'INVALID_INPUT', details: { status: 400 } })
    expect(answer.bytes).toBeLessThan(4 * MAX_ERROR_MESSAGE + MAX_ERROR_DETAILS)
  })

  it('a list request reads an error answer within the small-answer bound, not the list’s', async () => {
    body = JSON.stringify({ error: 'x', details: 'a'.repeat(SMALL_ANSWER_BYTES + 1024) })
    sent = 0
    const outcome = await new MeshsigClient({ server: url }).agents().then(
      () => 'answered',
      (err: { code?: string; message?: string }) => `${err.code}: ${err.message}`,
    )
    expect(outcome).toMatch(/^PEER_ERROR: .* more than 4194304 bytes$/)
    expect(sent).toBeGreaterThan(SMALL_ANSWER_BYTES)
  })
})
