/**
 * Review 92 F3: `meshsig_audit` (and `meshsig audit`, `meshsig audit
 * --ndjson`: `fetchNdjson`) against a server that is not the node. The home
 * holds no API token here, the case whose answers are "the server's word"
 * (decision 0055): a word, not the client's memory nor its time.
 *
 * - An error answer was read with `res.json()`, with no bound: the review's
 *   client took 256 MiB in 2 s. It is read within `SMALL_ANSWER_BYTES` now.
 * - A 200 answer dripping a byte every few seconds was never given up (each
 *   byte put off the 30 s idle timer): it must now bring 64 KiB in every idle
 *   window, and the summary's whole read has a deadline (`MESHSIG_AUDIT_DEADLINE`).
 * - The MCP client's cancellation (its own timeout) ends the read: before,
 *   the tool kept the fetch open after its client had given up.
 */
import { createServer, type ServerResponse, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SMALL_ANSWER_BYTES } from '../../api/client-http.js'
import { readAuditSummary } from '../../cli/commands/audit-summary.js'
import { contextFrom } from '../../cli/context.js'
import { mcpIo } from '../../api/mcp/context.js'
import { mcpInProcess } from './mcp-in-process.js'

const root = mkdtempSync(join(tmpdir(), 'mcp-audit-hostile-'))
const home = join(root, 'home')
const HEADER = '{"format":"meshsig-audit-ndjson/2","type":"header"}\n'
let server: Server
let url = ''
let handler: (res: ServerResponse) => void = (res) => res.end()
/** Bytes the server got into its socket, and whether the client went away. */
let written = 0
let clientGone: Promise<void> = Promise.resolve()
const timers: NodeJS.Timeout[] = []

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url?.startsWith('/health')) return res.end(JSON.stringify({ name: 'n', did: 'did:msig:x', version: '1' }))
    clientGone = new Promise((resolve) => res.once('close', () => resolve()))
    handler(res)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  timers.forEach(clearInterval)
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
  rmSync(root, { recursive: true, force: true })
})

/** Write `chunk` to `res` as fast as the client takes it, for ever or until it goes away. */
function flood(res: ServerResponse, chunk: Buffer): void {
  const pump = (): void => {
    while (!res.destroyed) {
      written += chunk.length
      if (!res.write(chunk)) return void res.once('drain', pump)
    }
  }
  pump()
}

/** One byte every `ms`: each would put off a plain idle timer. */
function drip(res: ServerResponse, ms: number): void {
  res.writeHead(200, { 'content-type': 'application/x-ndjson' })
  res.write(HEADER + '{"type":"entry","x":"')
  const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write('a')), ms)
  timers.push(t)
}

describe('meshsig_audit against a server that is not the node', () => {
  it('reads an error answer within the small-answer bound', async () => {
    written = 0
    handler = (res) => {
      res.writeHead(500, { 'content-type': 'application/json' })
      flood(res, Buffer.alloc(1 << 20, 0x61))
    }
    const mcp = await mcpInProcess({ MESHSIG_HOME: home, MESHSIG_SERVER: url })
    const answer = await mcp.call('meshsig_audit')
    await mcp.close()
    expect(answer.isError).toBe(true)
    expect(answer.data.code).toBe('PEER_ERROR')
    await clientGone
    // what the client read, plus what the sockets' buffers held when it stopped
    expect(written).toBeLessThan(SMALL_ANSWER_BYTES + 12 * 2 ** 20)
  })

  it('gives up a body that drips a byte at a time (64 KiB in each idle window, or nothing)', async () => {
    handler = (res) => drip(res, 3_000)
    const mcp = await mcpInProcess({ MESHSIG_HOME: home, MESHSIG_SERVER: url })
    const outcome = await Promise.race([
      mcp.call('meshsig_audit').then((a) => `${a.data?.code}: ${a.data?.error}`),
      new Promise<string>((r) => setTimeout(() => r('still waiting'), 50_000)),
    ])
    void mcp.close()
    expect(outcome).toMatch(/^TIMEOUT: .*sent less than 65536 bytes in 30000 ms/)
  }, 60_000)

  it('the progress floor, with a short idle window: a byte every 50 ms is given up', async () => {
    handler = (res) => drip(res, 50)
    const ctx = contextFrom({}, mcpIo({ MESHSIG_HOME: home, MESHSIG_SERVER: url }))
    const outcome = await readAuditSummary(ctx, undefined, { idleMs: 1_000 }).then(
      () => 'answered',
      (err: { code?: string }) => err.code,
    )
    expect(outcome).toBe('TIMEOUT')
  })

  it('gives up, at the summary’s deadline, a server that floods lines the summary does not keep', async () => {
    handler = (res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' })
      res.write(HEADER)
      flood(res, Buffer.from('{"type":"entry","x":1}\n'.repeat(4096)))
    }
    const mcp = await mcpInProcess({ MESHSIG_HOME: home, MESHSIG_SERVER: url, MESHSIG_AUDIT_DEADLINE: '2' })
    const answer = await mcp.call('meshsig_audit')
    await mcp.close()
    expect(answer.data.code).toBe('TIMEOUT')
    expect(answer.data.error).toContain('took longer than 2000 ms (MESHSIG_AUDIT_DEADLINE)')
    await clientGone
    const bad = await mcpInProcess({ MESHSIG_HOME: home, MESHSIG_SERVER: url, MESHSIG_AUDIT_DEADLINE: '0' })
    expect((await bad.call('meshsig_audit')).data.code).toBe('INVALID_INPUT')
    await bad.close()
  })

  it('ends the read when the MCP client gives up on the call', async () => {
    handler = (res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' })
      res.write(HEADER)
      flood(res, Buffer.from('{"type":"entry","x":1}\n'.repeat(4096)))
    }
    const mcp = await mcpInProcess({ MESHSIG_HOME: home, MESHSIG_SERVER: url })
    const gaveUp = await mcp.call('meshsig_audit', {}, 1_000).then(
      () => 'answered',
      (err: Error) => err.message,
    )
    expect(gaveUp).toMatch(/timed out/i)
    // the server sees its answer's socket closed: nothing keeps reading after the client gave up
    await clientGone
    await mcp.close()
  })

  it('holds only the header and the end line, each within its bound (review 96: a 128 MiB first line took 4.5 GB)', async () => {
    const ctx = contextFrom({}, mcpIo({ MESHSIG_HOME: home, MESHSIG_SERVER: url }))
    const summary = { totalAgents: 1 }
    const checkpoint = { origin: 'o', size: 1, root: 'r', ts: 1 }
    const header = JSON.stringify({
      type: 'header',
      node: { did: 'did:msig:x', name: 'n' },
      exportedAt: 't',
      checkpoint,
    })
    const answer =
      (...lines: string[]) =>
      (res: ServerResponse) => {
        res.writeHead(200, { 'content-type': 'application/x-ndjson' })
        res.end(lines.map((l) => l + '\n').join(''))
      }
    const big = 'x'.repeat(5 * 2 ** 20)
    // older checkpoints are counted by their start, never held: one larger than any held line's bound passes
    handler = answer(header, `{"type":"checkpoint","pad":"${big}"}`, JSON.stringify({ type: 'end', summary }))
    expect(await readAuditSummary(ctx)).toMatchObject({ earlierCheckpoints: 1, summary })
    // a header past 4 MiB, or an end line past 1 MiB, is refused as it comes
    const refused = (err: { code?: string; message?: string }): string => `${err.code}: ${err.message}`
    handler = answer(`{"type":"header","pad":"${big}"}`)
    expect(await readAuditSummary(ctx).then(() => 'answered', refused)).toMatch(/^MALFORMED: .*longer than 4194304/)
    handler = answer(header, `{"type":"end","pad":"${'x'.repeat(2 ** 21)}"}`)
    expect(await readAuditSummary(ctx).then(() => 'answered', refused)).toMatch(/^MALFORMED: .*longer than 1048576/)
  })
})
