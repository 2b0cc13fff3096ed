/**
 * Child process of the API benchmark: one real node (SQLite file in a temp
 * folder, synchronous=FULL as in production) with two custodied agents,
 * serving the API on 127.0.0.1 with the rate limit off. Reports its URL and
 * fixtures over IPC, answers `rss` requests, exits on `stop`.
 */
import '../../node/polyfill.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serveApi } from '../../api/server.js'
import { MeshNode } from '../../node/mesh-node.js'
import { freshIdentity } from '../helpers/mesh.js'

const workers = Number(process.env.MESHSIG_BENCH_VERIFY_WORKERS ?? '-1')
const dir = mkdtempSync(join(tmpdir(), 'meshsig-api-bench-'))
const node = await MeshNode.create({
  name: 'bench',
  identity: freshIdentity(),
  dbPath: join(dir, 'bench.db'),
  transports: 'memory',
  listen: [`/memory/api-bench-${process.pid}`],
})
await node.start()
const config = {
  home: dir,
  port: 0,
  host: '127.0.0.1',
  p2pPort: 0,
  db: join(dir, 'bench.db'),
  name: 'bench',
  peers: [],
  maxSkewMs: 300_000,
  rateLimit: 0,
  trustProxy: [],
  allowedHosts: [],
  trustLoopback: false,
}
const api = await serveApi(node, config, workers >= 0 ? { verifyWorkers: workers } : {})
const a = await node.registerAgent('bench-sender', [{ type: 'bench' }])
const b = await node.registerAgent('bench-receiver', [])
const message = 'benchmark message: analyse the Q1 sales report'
const signature = Buffer.from(
  (await import('../../node/core/keys.js')).keyPairFromB64(a.identity.privateKey).sign(Buffer.from(message)),
).toString('base64')

let peak = process.memoryUsage().rss
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100)
process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'rss') {
    process.send?.({ rss: process.memoryUsage().rss, peak })
    peak = process.memoryUsage().rss
  }
  if (m.cmd === 'stop') {
    clearInterval(sampler)
    void api
      .close()
      .then(() => node.stop())
      .then(() => {
        rmSync(dir, { recursive: true, force: true })
        process.exit(0)
      })
  }
})
process.send?.({ url: api.url, from: a.identity.did, to: b.identity.did, message, signature })
