/**
 * `meshsig start` whose log reader goes away (`meshsig start 2>&1 | head`, a log shipper restarting; review
 * 107 L2): the node goes on serving. The quiet end on a broken pipe of one-shot commands (`meshsig audit
 * --ndjson | head`) had also ended a running node at its next log line, with exit 0, which a supervisor reads
 * as a deliberate stop.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { MeshNode } from '../../node/mesh-node.js'
import { startNode, stopAll, tempDir } from '../helpers/mesh.js'
import { freePort, startProcess, type NodeProcess } from '../helpers/node-process.js'
import { waitFor } from '../helpers/wait-for.js'

const cli = { main: join(__dirname, '../../dist/bin/meshsig.js'), cleanup() {} }
const nodes: MeshNode[] = []
let seed: Server | undefined
let proc: NodeProcess | undefined
const home = tempDir('meshsig-start-broken-log-pipe-')
afterAll(async () => {
  proc?.child.kill('SIGKILL')
  await stopAll(nodes)
  seed?.close()
  home.cleanup()
})

describe('meshsig start whose log reader goes away', () => {
  it('goes on serving after its next log line', async () => {
    const other = await startNode({ transports: 'tcp' })
    nodes.push(other)
    let up = true
    seed = createServer((req, res) => {
      if (!up) return void res.writeHead(503).end('down')
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(other.info()))
    })
    await new Promise<void>((r) => seed!.listen(0, '127.0.0.1', r))
    const seedPort = (seed.address() as AddressInfo).port
    proc = startProcess(cli, join(home.dir, 'home'), await freePort(), ['--peer', `http://127.0.0.1:${seedPort}`])
    await waitFor(() => proc!.output().includes('running'), { timeout: 30_000, message: 'the node runs' })
    await new Promise((r) => setTimeout(r, 3_000)) // connected to the seed
    // the log reader goes away
    proc.child.stdout?.destroy()
    proc.child.stderr?.destroy()
    // the seed goes down: the node logs one warning for the outage
    up = false
    await other.stop()
    const result = await Promise.race([
      proc.exited(),
      new Promise<'running'>((r) => setTimeout(() => r('running'), 15_000)),
    ])
    expect(result).toBe('running')
    expect((await fetch(`${proc.url}/health`)).status).toBe(200)
  }, 60_000)
})
