/**
 * Attack review (MCP, attacker = another local user): a listener on the
 * node's port (the node's own while it is down, decision 0034) that does NOT
 * hold the operator token. The MCP server's home holds an identity and an
 * API token (meshsig_init writes one), so it *could* tell this listener is
 * not its node: the token proof fails. These tests show what the tools do
 * with the listener's answers anyway.
 *
 * Every test states the safe behaviour; all but the first failed before
 * decision 0055 (an unproven server is not the node: NODE_UNPROVEN).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair, toB64, utf8 } from '../../node/core/index.js'
import { didFromPublicKey } from '../../node/core/did.js'
import type { BuiltCli } from '../cli/build-cli.js'
import { tempDir } from '../helpers/mesh.js'
import { buildMcp, connectMcp, type McpSession } from './mcp-fixture.js'

const root = tempDir('meshsig-mcp-review-impostor-')
let built: BuiltCli
let server: Server
let mcp: McpSession
/** Every request the impostor saw: method, url, authorization header. */
const seen: Array<{ method: string; url: string; auth: string | undefined; body: string }> = []

/** A DID whose inception key leaked; the real node knows it is revoked. */
const leaked = generateKeyPair()
const leakedDid = didFromPublicKey(leaked.publicKey)
/** The real node's DID (the impostor names it as the checkpoint signer). */
const realNode = generateKeyPair()
const realNodeDid = didFromPublicKey(realNode.publicKey)
/** A hosted agent the operator wants revoked. */
const victimDid = didFromPublicKey(generateKeyPair().publicKey)

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let b = ''
    req.on('data', (c: Buffer) => (b += c.toString('utf8')))
    req.on('end', () => resolve(b))
  })
}

beforeAll(async () => {
  built = buildMcp()
  server = createServer(async (req, res) => {
    const b = await body(req)
    const url = req.url ?? ''
    seen.push({ method: req.method ?? '', url, auth: req.headers.authorization, body: b })
    res.setHeader('content-type', 'application/json')
    if (url.startsWith('/health')) {
      // no X-Meshsig-Token-Proof: this listener does not hold the token
      return res.end(JSON.stringify({ name: 'node', did: realNodeDid, version: '1.0.0' }))
    }
    if (url.startsWith('/keys/')) {
      const did = decodeURIComponent(url.slice('/keys/'.length))
      if (did === victimDid) {
        return res.end(
          JSON.stringify({
            did,
            known: true,
            revoked: true,
            revocation: { reason: 'Key leaked', revokedAt: new Date().toISOString(), by: 'controller' },
          }),
        )
      }
      // "I know no key event log for this DID": hides its rotation and its revocation
      return res.end(JSON.stringify({ did, known: false }))
    }
    if (url === '/agents/revoke' && req.method === 'POST') {
      const input = JSON.parse(b) as { did: string; reason: string }
      return res.end(
        JSON.stringify({
          revoked: true,
          did: input.did,
          reason: input.reason,
          revokedAt: new Date().toISOString(),
          keySeq: 1,
          final: true,
          envelope: {},
        }),
      )
    }
    if (url.startsWith('/agents')) {
      const agents = [
        {
          did: leakedDid,
          name: 'payments-bot',
          publicKey: toB64(leaked.publicKey),
          capabilities: [{ type: 'payments' }],
          status: 'active',
          trustScore: 1,
          online: true,
          origin: 'local',
        },
      ]
      return res.end(JSON.stringify({ agents, total: agents.length }))
    }
    if (url.startsWith('/audit/export')) {
      res.setHeader('content-type', 'application/x-ndjson')
      const header = {
        format: 'meshsig-audit-ndjson/1',
        exportedAt: new Date().toISOString(),
        node: { did: realNodeDid, name: 'node' },
        checkpoint: { origin: realNodeDid, size: 1, root: toB64(new Uint8Array(32)), ts: Date.now() },
      }
      const summary = {
        totalAgents: 0,
        activeAgents: 0,
        revokedAgents: 0,
        totalMessages: 0,
        verifiedMessages: 0,
        failedVerifications: 0,
        averageTrust: 1,
        totalConnections: 0,
        keyEvents: 0,
        auditEntries: 1,
      }
      return res.end(JSON.stringify(header) + '\n' + JSON.stringify({ type: 'end', summary }) + '\n')
    }
    res.statusCode = 404
    res.end(JSON.stringify({ error: 'not found', code: 'NOT_FOUND' }))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  mcp = await connectMcp({ main: built.main, home: join(root.dir, 'home'), server: url })
  // the home now holds an identity and an API token: the MCP server can ask any server to prove it holds it
  expect((await mcp.call('meshsig_init')).isError).toBe(false)
}, 180_000)

afterAll(async () => {
  await mcp?.close()
  await new Promise<void>((r) => server.close(() => r()))
  built?.cleanup()
  root.cleanup()
})

describe('review: the MCP tools against a listener that cannot prove it is the node', () => {
  it('sound: the home token is never sent to it', async () => {
    await mcp.call('meshsig_agents')
    await mcp.call('meshsig_revoke', { did: victimDid, reason: 'x' })
    expect(seen.length).toBeGreaterThan(0)
    for (const r of seen) expect(r.auth, `${r.method} ${r.url}`).toBeUndefined()
  })

  it('F2 meshsig_verify: a leaked (revoked) key is reported VALID when the listener says "no key event log"', async () => {
    const message = 'Approve the wire transfer of 50,000 EUR'
    const signature = toB64(leaked.sign(utf8(message)))
    const r = await mcp.call('meshsig_verify', { message, signature, signer: leakedDid })
    // safe: a server that failed the token proof is not believed when it says it knows no log / no revocation
    expect(r.data?.valid, r.text).not.toBe(true)
    expect(r).toMatchObject({ isError: true, data: { code: 'NODE_UNPROVEN' } })
  })

  it('F3 meshsig_revoke: the listener answers 200 and the tool reports "✓ Revoked" though nothing was revoked', async () => {
    const r = await mcp.call('meshsig_revoke', { did: victimDid, reason: 'Key leaked' })
    // safe: an operator action whose server failed the token proof is refused (or at least not reported done)
    expect(r.isError, r.text).toBe(true)
    expect(r.data?.revoked).not.toBe(true)
    expect(r.data?.code).toBe('NODE_UNPROVEN')
  })

  it('F3 meshsig_agents: the listener’s agent list is answered as the node’s, unmarked', async () => {
    const r = await mcp.call('meshsig_agents')
    // safe: an error, or at least an answer that says the server is unproven
    const marked = r.isError || /not proven|unverified|could not prove|impostor/i.test(r.text)
    expect(marked, r.text).toBe(true)
    expect(r.data?.code).toBe('NODE_UNPROVEN')
    expect(r.text).not.toContain('payments-bot')
  })

  it('F5 meshsig_audit: an unsigned, invented checkpoint is shown as "signed by" the real node', async () => {
    const r = await mcp.call('meshsig_audit')
    // safe: the checkpoint's signature is checked (against the node's key) before it is called signed
    const claimsSigned = r.isError === false && /signed by/.test(r.text)
    expect(claimsSigned, r.text).toBe(false)
    // (only because the proof fails here: with no token at hand the checkpoint's signature is still not checked)
    expect(r.data?.code).toBe('NODE_UNPROVEN')
  })

  it('F3 meshsig_revoke of the home identity: no signed rev reaches the listener, nothing is reported revoked', async () => {
    const me = (await mcp.call('meshsig_identity')).data.did as string
    const r = await mcp.call('meshsig_revoke', { did: me, reason: 'Key leaked' })
    const got = seen.find((x) => x.url === '/agents/revoke' && x.body.includes(me))
    const report = `${r.text}\nthe listener holds the signed rev: ${got !== undefined}`
    // safe: a server that did not prove it is the node is not reported to have revoked anything
    expect(r.data?.revoked, report).not.toBe(true)
    expect(got, report).toBeUndefined()
    // since decision 0077 the tool refuses the home identity before it asks any server (it was NODE_UNPROVEN:
    // the server proven before the signed revocation was handed to it)
    expect(r.data?.code).toBe('FORBIDDEN')
  })
})
