/**
 * The serving side of the sync benchmark (sync.bench.ts), run as its own OS
 * process (`fork` with `--import tsx`) so that its CPU is measured apart
 * from the catching-up node's: a real meshsig node on TCP that generates
 * agents (inception + registration, controlled by itself) and takes them up
 * through its one acceptance path, as sync would. Commands arrive over IPC:
 *
 * - `{ cmd: 'fill', n }`: add `n` new agents; answers `{ items, bytes }` (the encoded size of what it added)
 * - `{ cmd: 'join', addr, agents }`: connect to the peer at `addr` and answer `{ agents }` once this node holds
 *   at least `agents` agents (pulled by registry sync)
 * - `{ cmd: 'info' }`: answers `{ addr, peerId, root }` (root: the reconciliation root fingerprint)
 * - `{ cmd: 'cpu' }`: answers `{ us }`, this process's CPU time so far (user + system, µs)
 * - `{ cmd: 'stop' }`: stops the node and exits
 */
import '../../node/polyfill.js'
import { createInception, createRegistration, encodeEnvelope, generateKeyPair } from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { startNode } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'

/** Settings of a quiet bench node: no anti-entropy timer, default gossip heartbeat, rare DHT self-queries. */
export const QUIET = { antiEntropyMs: 3_600_000, heartbeatInterval: 1_000, dhtQuerySelfInterval: 60_000 }

interface Inside {
  readonly ingest: { ingest(e: unknown, source: unknown, opts: unknown): { ok: boolean } }
  readonly registrySync: { readonly index: { fingerprint(p: string): { count: number; fp: Uint8Array } } }
}
const inside = (n: MeshNode): Inside => (n as unknown as { parts: Inside }).parts

let made = 0

/** Make `n` agents controlled by `node` and take them up in transactions of 512; their encoded bytes. */
function fill(node: MeshNode, n: number): { items: number; bytes: number } {
  const { peerId } = node.info()
  let bytes = 0
  let items = 0
  for (let i = 0; i < n; i += 256) {
    const batch = Array.from({ length: Math.min(256, n - i) }, () => {
      const key = generateKeyPair()
      const icp = createInception(key, Date.now(), generateKeyPair())
      const init = { did: icp.did, name: `bench-${made++}`, capabilities: [], controller: node.did, peerId }
      return [icp, createRegistration({ ...init, ts: Date.now() }, key)]
    }).flat()
    node.store.transaction(() => {
      for (const e of batch) {
        const v = inside(node).ingest.ingest(e, { kind: 'sync', peer: 'bench' }, { fresh: false })
        if (!v.ok) throw new Error('a generated item was refused')
        bytes += encodeEnvelope(e).length
        items++
      }
    })
  }
  return { items, bytes }
}

/** Connect to `addr` and wait until this node holds `agents` agents. */
async function join(node: MeshNode, addr: string, agents: number): Promise<{ agents: number }> {
  await node.connectPeer(addr)
  await waitFor(() => node.store.agents.count() >= agents, { timeout: 900_000, interval: 50 })
  return { agents: node.store.agents.count() }
}

function root(node: MeshNode): string {
  const f = inside(node).registrySync.index.fingerprint('')
  return `${f.count}:${Buffer.from(f.fp).toString('hex')}`
}

async function main(): Promise<void> {
  const node = await startNode({ transports: 'tcp', init: QUIET })
  const reply = (m: unknown): void => void process.send?.(m)
  process.on('message', (m: { cmd: string; n?: number; addr?: string; agents?: number }) => {
    if (m.cmd === 'fill') reply(fill(node, m.n ?? 0))
    else if (m.cmd === 'join') void join(node, m.addr ?? '', m.agents ?? 0).then(reply)
    else if (m.cmd === 'info') reply({ addr: node.info().multiaddrs[0], peerId: node.info().peerId, root: root(node) })
    else if (m.cmd === 'cpu') {
      const u = process.cpuUsage()
      reply({ us: u.user + u.system })
    } else if (m.cmd === 'stop') void node.stop().finally(() => process.exit(0))
  })
  process.on('disconnect', () => void node.stop().finally(() => process.exit(0)))
  reply({ ready: true })
}

void main()
