/**
 * Review 121: the operator token never appears in a tool result. `MESHSIG_TOKEN` is sent as given to a node on
 * another host (no proof is possible there, SECURITY.md). When it holds a character a header value cannot carry
 * (a CR, LF or NUL inside it: a token pasted across two lines into an MCP client's config), fetch refuses the
 * request with a TypeError whose message quotes the whole header value, `Headers.append: "Bearer <token>" is an
 * invalid header value.`, and transportError (api/client-errors.ts) copies that message into the UNREACHABLE
 * error that meshsig_revoke returns to the model. So one meshsig_revoke call puts the bearer secret into the
 * model's context (and the CLI prints it on stderr). The node here is a stand-in answering the tool's first read
 * (the DID is hosted, active) on 0.0.0.0, which is not a loopback name, so no proof is asked for.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { didFromPublicKey, generateKeyPair } from '../../node/core/index.js'
import { mcpInProcess, type InProcessMcp } from './mcp-in-process.js'

const TOKEN_HEAD = 'S3cr3tOperatorTokenPartOne'
const TOKEN_TAIL = 'PartTwoOfTheSameSecret'
const did = didFromPublicKey(generateKeyPair().publicKey)
let root: string | undefined
let server: Server
let mcp: InProcessMcp
let posts = 0

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.method === 'POST') posts += 1
    res.setHeader('content-type', 'application/json')
    if (req.method === 'GET' && req.url?.startsWith('/agents/')) {
      res.end(JSON.stringify({ did, name: 'hosted', status: 'active', origin: 'local' }))
    } else res.end(JSON.stringify({ error: 'no', code: 'NOT_FOUND' }))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  root = mkdtempSync(join(tmpdir(), 'r121-token-'))
  const home = join(root, 'home')
  mcp = await mcpInProcess({
    MESHSIG_HOME: home,
    MESHSIG_SERVER: `http://0.0.0.0:${port}`,
    MESHSIG_TOKEN: `${TOKEN_HEAD}\n${TOKEN_TAIL}`,
  })
})

afterAll(async () => {
  await mcp?.close()
  await new Promise((r) => server.close(r))
  if (root !== undefined) rmSync(root, { recursive: true, force: true })
})

describe('a malformed MESHSIG_TOKEN', () => {
  it('is not echoed in the tool result of meshsig_revoke', async () => {
    const r = await mcp.call('meshsig_revoke', { did, reason: 'test' })
    const everything = r.text + JSON.stringify(r.data)
    expect(r.isError).toBe(true)
    expect(posts).toBe(0)
    expect(everything).not.toContain(TOKEN_HEAD)
    expect(everything).not.toContain(TOKEN_TAIL)
  })
})
