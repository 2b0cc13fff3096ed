/**
 * What plain Node.js reaches on this machine with the same client, the same
 * connections and the same `/verify` body (issue 13): the ceiling any
 * Node.js HTTP answer is measured against. A bare `node:http` server, in a
 * process of its own like the node, answers
 *
 * - "HTTP and JSON only": reads and parses the JSON body, answers `{}`;
 * - "one inline verify": the same, plus one node:crypto Ed25519 verify of the
 *   body's signature under a cached public key, on its one thread.
 *
 * Neither checks, stores, logs or rate-limits anything: the rows say how much
 * of a target ratio HTTP alone takes on this machine, not what meshsig could
 * skip (docs/decisions/0029, 0032).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { cpuMs, load } from './api-node.js'
import { fmtInt } from './bench-kit.js'

/** The bare server, run with `node -e`; prints its port once listening. */
const SERVER_SOURCE = `
const http = require('node:http'), crypto = require('node:crypto')
const keys = new Map()
function keyOf(b64) {
  let k = keys.get(b64)
  if (!k) {
    const x = Buffer.from(b64, 'base64').toString('base64url')
    k = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' })
    keys.set(b64, k)
  }
  return k
}
const server = http.createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    const b = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    let out = '{}'
    if (req.url === '/verify') {
      const valid = crypto.verify(null, Buffer.from(b.message), keyOf(b.publicKey), Buffer.from(b.signature, 'base64'))
      out = JSON.stringify({ valid, verifiedAt: new Date().toISOString() })
    }
    res.setHeader('Content-Type', 'application/json; charset=utf-8')
    res.setHeader('Content-Length', Buffer.byteLength(out))
    res.end(out)
  })
})
server.listen(0, '127.0.0.1', () => console.log(server.address().port))
`

/** One measured row of the bare server. */
interface CeilingRow {
  readonly label: string
  readonly reqPerSec: number
  readonly raw: number
  readonly cpuUsPerReq: number
  readonly failures: number
}

async function startBare(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['-e', SERVER_SOURCE], { stdio: ['ignore', 'pipe', 'inherit'] })
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer]
  return { child, url: `http://127.0.0.1:${chunk.toString().trim()}` }
}

/**
 * Markdown lines: the bare server's two rows at c = 32 with `body` (the
 * `/verify` scenario's), each calibrated by `rawNow()` before and after it.
 */
export async function ceilingLines(body: unknown, rawNow: () => number, seconds: number): Promise<string[]> {
  const bare = await startBare()
  const rows: CeilingRow[] = []
  try {
    for (const [label, path] of [
      ['HTTP and JSON only (answers `{}`)', '/echo'],
      ['one inline verify (one thread)', '/verify'],
    ] as const) {
      await load(bare.url + path, body, 8, 2) // warm-up
      const before = rawNow()
      const cpu0 = cpuMs(bare.child.pid)
      const r = await load(bare.url + path, body, 32, seconds)
      const cpuUsPerReq = ((cpuMs(bare.child.pid) - cpu0) * 1000) / Math.max(1, r.requests.total)
      const raw = (before + rawNow()) / 2
      rows.push({ label, reqPerSec: r.requests.average, raw, cpuUsPerReq, failures: r.non2xx + r.errors })
    }
  } finally {
    bare.child.kill('SIGTERM')
  }
  return [
    '',
    'Plain Node.js on the same machine, same client, c = 32 and the same `/verify` body: a bare `node:http` ' +
      'server in a process of its own that parses the body and answers, with nothing checked, stored or logged. ' +
      'The first row is the ceiling of any Node.js HTTP answer on this machine with this client; the second is what ' +
      'one thread that verifies as it answers reaches (meshsig verifies on worker threads, so its `/verify` can pass ' +
      'it). The gap between these rows and the table above is what meshsig adds.',
    '',
    '| bare server | req/s | raw verify next to it | × that raw verify | non-2xx / errors | server CPU / req |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.label} | ${fmtInt(r.reqPerSec)} | ${fmtInt(r.raw)} /s | ${(r.reqPerSec / r.raw).toFixed(3)} | ` +
        `${r.failures} | ${fmtInt(r.cpuUsPerReq)} µs |`,
    ),
  ]
}
