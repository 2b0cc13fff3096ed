/**
 * What a server at --server that is not the node (another local user on the
 * port while the node is down, a hostile remote URL) can make the CLI — and
 * the MCP server, which runs the same command functions in one long-lived
 * process — hold or wait for (found by a review of the day's fixes):
 *
 * - verify reads a key view (`GET /keys/:did`): an answer of a known small
 *   shape, so one past `SMALL_ANSWER_BYTES` is given up (`PEER_ERROR`), not
 *   buffered whole (2.6 GB within the 5 s timeout, measured by the review);
 * - the audit summary reads the streamed export: a server that sends nothing
 *   for the idle deadline is given up (`TIMEOUT`; there was no deadline), and
 *   the lines the summary does not read (entries) are dropped as they come,
 *   never held, however long.
 */
import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { SMALL_ANSWER_BYTES } from '../../api/client-http.js'
import { eachLine } from '../../cli/commands/audit-stream.js'
import { readAuditSummary } from '../../cli/commands/audit-summary.js'
import { verifyCommand } from '../../cli/commands/verify.js'
import { contextFrom, type CliIo } from '../../cli/context.js'
import { createInception, generateKeyPair, toB64, utf8 } from '../../node/core/index.js'
import { tempDir } from '../helpers/mesh.js'

const root = tempDir('meshsig-hostile-server-')
let server: Server
let base = ''
let handler: (res: ServerResponse) => void = (res) => res.end()
const open = new Set<ServerResponse>()

function io(): CliIo {
  return {
    stdout: () => undefined,
    stderr: () => undefined,
    readStdin: () => Promise.resolve(new Uint8Array()),
    env: { MESHSIG_HOME: join(root.dir, 'home'), MESHSIG_SERVER: base },
    now: () => Date.now(),
  }
}

/** Write `total` bytes of `byte` to `res` as the client takes them, then `tail`; resolves with the bytes taken. */
function flood(res: ServerResponse, total: number, byte: number, tail = ''): Promise<number> {
  const chunk = Buffer.alloc(1 << 20, byte)
  let sent = 0
  return new Promise((resolve) => {
    const pump = (): void => {
      while (sent < total) {
        sent += chunk.length
        if (!res.write(chunk)) return
      }
      res.end(tail)
    }
    res.on('drain', pump)
    res.on('close', () => resolve(sent - res.writableLength))
    pump()
  })
}

const code = (err: unknown): string | undefined => (err as { code?: string }).code

beforeAll(async () => {
  server = createServer((req, res) => {
    open.add(res)
    res.on('close', () => open.delete(res))
    req.resume()
    handler(res)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterEach(() => {
  for (const res of open) res.destroy()
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
  root.cleanup()
})

describe('meshsig verify against a server that answers without end', () => {
  it('gives a key view up past its bound: PEER_ERROR, not a verdict, and the rest is not read', async () => {
    const k0 = generateKeyPair()
    const did = createInception(k0, 1_000, generateKeyPair()).did
    let taken: Promise<number> | undefined
    handler = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write(`{"did":"${did}","known":true,"keyEvents":[],"pad":"`)
      taken = flood(res, 256 * 1024 * 1024, 0x20)
    }
    const sig = toB64(k0.sign(utf8('hello')))
    const failed = await verifyCommand(contextFrom({}, io()), 'hello', sig, did).then(
      () => 'answered',
      (err: unknown) => code(err),
    )
    expect(failed).toBe('PEER_ERROR')
    expect(await taken!, 'bytes the client took').toBeLessThan(SMALL_ANSWER_BYTES + 16 * 1024 * 1024)
  }, 60_000)
})

describe('the audit summary against a server that is not the node', () => {
  const header = (): string =>
    JSON.stringify({
      type: 'header',
      format: 'meshsig-audit-ndjson/1',
      exportedAt: new Date().toISOString(),
      node: { did: 'did:msig:abc', name: 'x' },
      checkpoint: { origin: 'did:msig:abc', size: 1, root: 'AA==', ts: 1 },
    }) + '\n'
  const end = JSON.stringify({ type: 'end', summary: { totalAgents: 7 } }) + '\n'

  it('gives up on one that sends its headers and a line, then nothing: TIMEOUT after the idle deadline', async () => {
    handler = (res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' })
      res.write(header())
    }
    const outcome = await readAuditSummary(contextFrom({}, io()), undefined, { idleMs: 1_000 }).then(
      () => 'answered',
      (err: unknown) => code(err),
    )
    expect(outcome).toBe('TIMEOUT')
  }, 30_000)

  it('reads past an entry line of 64 MB without holding it, and gives the end line’s summary', async () => {
    handler = (res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' })
      res.write(header() + '{"type":"entry","pad":"')
      void flood(res, 64 * 1024 * 1024, 0x61, '"}\n' + end)
    }
    const summary = await readAuditSummary(contextFrom({}, io()))
    expect(summary.summary).toEqual({ totalAgents: 7 })
  }, 60_000)

  it('hands over only the lines it wants, and refuses a wanted line past its bound', async () => {
    async function* chunks(): AsyncGenerator<string> {
      yield '{"type":"entry","x":"' + 'a'.repeat(1 << 20)
      yield 'a'.repeat(1 << 20) + '"}\n{"type":"end"}\n'
    }
    const seen: string[] = []
    const starts: string[] = []
    const wanted = (start: string): boolean => {
      starts.push(start)
      return start.startsWith('{"type":"end"')
    }
    await eachLine(chunks(), (l) => seen.push(l), { wanted })
    expect(seen).toEqual(['{"type":"end"}'])
    expect(starts.every((s) => s.length <= 32)).toBe(true)
    const bounded = eachLine(chunks(), () => undefined, { maxLength: 1 << 20 })
    await expect(bounded).rejects.toMatchObject({ code: 'MALFORMED' })
  })
})
