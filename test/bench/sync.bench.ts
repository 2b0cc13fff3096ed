/**
 * Registry reconciliation (docs/protocol.md §9, decision 0014) on real
 * in-process nodes over the memory transport: bytes and CPU of one
 * anti-entropy round between converged peers at 1k and 10k agents, catch-up
 * of a fresh node and of a node missing 1 % of 10k agents (bytes against the
 * items' own size), and the mesh bytes and CPU one registration costs across
 * ten nodes. Raw node:crypto Ed25519 verify is measured in the same run.
 *
 * Both ends of every exchange share this process, so CPU figures are the
 * sum of both sides.
 */
import { performance } from 'node:perf_hooks'
import {
  createInception,
  createRegistration,
  encodeEnvelope,
  generateKeyPair,
  type Envelope,
} from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import type { SyncResult } from '../../node/services/sync.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { fmtInt, rawVerifyUs, type BenchModule } from './bench-kit.js'

/** What the bench reaches inside a node (its private parts, read-only use). */
interface Inside {
  readonly ingest: { ingest(e: Envelope, source: unknown, opts: unknown): unknown }
  readonly registrySync: {
    readonly client: { round(peer: string): Promise<SyncResult | undefined> }
    readonly index: {
      fingerprint(p: string): { count: number; fp: Uint8Array }
      page(after: string | undefined, limit: number): { id: string }[]
      has(id: string): boolean
    }
  }
  readonly gossip: { validate(topic: string, data: Uint8Array, via: string, origin?: string): unknown }
}
const inside = (n: MeshNode): Inside => (n as unknown as { parts: Inside }).parts

const NO_ANTI_ENTROPY = { antiEntropyMs: 3_600_000 }

/** `n` agents (inception + registration each) controlled by `host`. */
function agents(n: number, host: MeshNode): Envelope[][] {
  const info = host.info()
  return Array.from({ length: n }, (_, i) => {
    const key = generateKeyPair()
    const icp = createInception(key, Date.now(), generateKeyPair())
    const init = { did: icp.did, name: `bench-${i}`, capabilities: [], controller: host.did, peerId: info.peerId }
    return [icp, createRegistration({ ...init, ts: Date.now() }, key)]
  })
}

function fill(node: MeshNode, items: readonly Envelope[]): void {
  for (let i = 0; i < items.length; i += 512) {
    node.store.transaction(() => {
      for (const e of items.slice(i, i + 512))
        inside(node).ingest.ingest(e, { kind: 'sync', peer: 'bench' }, { fresh: false })
    })
  }
}

function root(n: MeshNode): string {
  const f = inside(n).registrySync.index.fingerprint('')
  return `${f.count}:${Buffer.from(f.fp).toString('hex')}`
}

/** True when `puller` stores every item `from` serves (the roots also differ by each side's own, unanchored, items). */
function covers(puller: MeshNode, from: MeshNode): boolean {
  const idx = inside(puller).registrySync.index
  return inside(from)
    .registrySync.index.page(undefined, 1e9)
    .every((i) => idx.has(i.id))
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since)
  return (d.user + d.system) / 1000
}

interface Cost {
  bytes: number
  ms: number
  cpu: number
  rounds: number
}

/** Count the rounds a node runs (its own and those gossip starts) and their bytes. */
function meter(n: MeshNode): { bytes: number; rounds: number; running: number } {
  const m = { bytes: 0, rounds: 0, running: 0 }
  const client = inside(n).registrySync.client
  const round = client.round.bind(client)
  client.round = async (peer) => {
    m.rounds++
    m.running++
    try {
      const r = await round(peer)
      m.bytes += r?.bytes ?? 0
      return r
    } finally {
      m.running--
    }
  }
  return m
}

/** Connect `puller` to `from`, then run rounds until their roots agree; everything from the connect on is counted. */
async function catchUp(puller: MeshNode, from: MeshNode, max = 50): Promise<Cost> {
  const m = meter(puller)
  const t0 = performance.now()
  const c0 = process.cpuUsage()
  await puller.connectPeer(from.info().multiaddrs[0]!)
  await waitFor(() => m.rounds > 0 && m.running === 0, { timeout: 120_000, interval: 5 }) // the round on connect
  while (root(puller) !== root(from) && m.rounds < max)
    await inside(puller).registrySync.client.round(from.info().peerId)
  const cost = { bytes: m.bytes, ms: performance.now() - t0, cpu: cpuMs(c0), rounds: m.rounds }
  if (root(puller) !== root(from)) throw new Error('catch-up did not converge')
  return cost
}

async function pair(items: readonly Envelope[], share: number): Promise<[MeshNode, MeshNode]> {
  const a = await startNode({ init: NO_ANTI_ENTROPY })
  fill(a, items)
  const b = await startNode({ init: NO_ANTI_ENTROPY })
  fill(b, items.slice(0, Math.floor(items.length * share)))
  await a.registerAgent('own-a') // each node hosts an agent: its own key log is then anchored everywhere
  await b.registerAgent('own-b')
  return [a, b]
}

async function converged(n: number): Promise<string> {
  const host = await startNode({ init: NO_ANTI_ENTROPY })
  const items = agents(n, host).flat()
  await host.stop()
  const [a, b] = await pair(items, 1)
  await catchUp(b, a)
  while (!covers(a, b)) await inside(a).registrySync.client.round(b.info().peerId)
  if (root(a) !== root(b)) throw new Error('the pair did not converge')
  const rounds = 50
  const t0 = performance.now()
  const c0 = process.cpuUsage()
  let bytes = 0
  for (let i = 0; i < rounds; i++) bytes += (await inside(b).registrySync.client.round(a.info().peerId))?.bytes ?? 0
  const row = `| ${fmtInt(n)} agents (${fmtInt(items.length)} items) | ${fmtInt(bytes / rounds)} | ${(cpuMs(c0) / rounds).toFixed(2)} | ${((performance.now() - t0) / rounds).toFixed(2)} |`
  await stopAll([a, b])
  return row
}

async function catchUpRow(label: string, items: readonly Envelope[], share: number): Promise<string> {
  const [a, c] = await pair(items, share)
  const held = Math.floor(items.length * share)
  const own = items.slice(held).reduce((sum, e) => sum + encodeEnvelope(e).length, 0)
  const cost = await catchUp(c, a)
  await stopAll([a, c])
  const missing = items.length - held
  const cells = [label, fmtInt(missing), fmtInt(own), fmtInt(cost.bytes), (cost.bytes / own).toFixed(2)]
  cells.push(fmtInt(cost.ms), fmtInt(cost.cpu), ((cost.cpu * 1000) / missing).toFixed(0), String(cost.rounds))
  return `| ${cells.join(' | ')} |`
}

/** Gossip bytes every node's validator saw. */
function gossipMeter(n: MeshNode): { bytes: number; messages: number } {
  const m = { bytes: 0, messages: 0 }
  const g = inside(n).gossip
  const validate = g.validate.bind(g)
  g.validate = (topic, data, via, origin) => {
    m.bytes += data.length
    m.messages++
    return validate(topic, data, via, origin)
  }
  return m
}

/** Mesh bytes and CPU per registration: `count` registrations on node 0 of ten in a line, until every node has them. */
async function registrationCost(count: number): Promise<string[]> {
  const nodes: MeshNode[] = []
  for (let i = 0; i < 10; i++) {
    const peers = i === 0 ? [] : [nodes[i - 1]!.info().multiaddrs[0]!]
    nodes.push(await startNode({ peers, init: NO_ANTI_ENTROPY }))
  }
  await new Promise((r) => setTimeout(r, 3_000)) // connections, first syncs and the gossip mesh settle
  const syncs = nodes.map(meter)
  const gossip = nodes.map(gossipMeter)
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const dids: string[] = []
  for (let i = 0; i < count; i++) dids.push((await nodes[0]!.registerAgent(`reg-${i}`)).identity.did)
  const holding = (): number => nodes.filter((n) => dids.every((d) => n.store.agents.get(d))).length
  await waitFor(() => holding() === nodes.length, { timeout: 30_000, interval: 20 }).catch(() => undefined)
  const ms = performance.now() - t0
  const cpu = cpuMs(c0)
  await new Promise((r) => setTimeout(r, 1_000)) // rounds still triggered by the registrations
  const syncBytes = syncs.reduce((s, m) => s + m.bytes, 0)
  const gossipBytes = gossip.reduce((s, m) => s + m.bytes, 0)
  const rounds = syncs.reduce((s, m) => s + m.rounds, 0)
  const held = holding()
  await stopAll(nodes)
  const per = (x: number): string => fmtInt(x / count / 9)
  return [
    `| gossip bytes per registration per other node | ${per(gossipBytes)} |`,
    `| sync bytes per registration per other node | ${per(syncBytes)} |`,
    `| sync rounds triggered (all nodes, ${count} registrations) | ${rounds} |`,
    `| CPU per registration, all ten nodes (ms) | ${(cpu / count).toFixed(2)} |`,
    `| CPU per registration per other node (ms, ÷ 9, includes node 0's share) | ${(cpu / count / 9).toFixed(2)} |`,
    `| nodes holding all ${count} registrations (of 10) | ${held} |`,
    `| wall time until then (ms; 30,000 = gave up) | ${fmtInt(ms)} |`,
  ]
}

/** The sync benchmark module. */
export const syncBench: BenchModule = {
  name: 'sync',
  async run(): Promise<string> {
    const raw = rawVerifyUs()
    const conv = [await converged(1_000), await converged(10_000)]
    const host = await startNode({ init: NO_ANTI_ENTROPY })
    const items = agents(10_000, host).flat()
    await host.stop()
    const fresh = await catchUpRow('fresh node, 10k agents', items, 0)
    const onePct = await catchUpRow('missing 1 % of 10k agents', items, 0.99)
    const reg = await registrationCost(20)
    const rawAfter = rawVerifyUs()
    return [
      '## Registry sync (reconciliation)',
      '',
      `Raw Ed25519 verify (node:crypto, cached KeyObject), same run: **${raw.toFixed(1)} µs** before, ${rawAfter.toFixed(1)} µs after.`,
      'Both ends of every exchange share this process: CPU is the sum of both sides. Items are `icp` + `reg` per agent.',
      '',
      '### Anti-entropy round between converged peers (mean of 50; targets < 2 KB, < 5 ms, flat)',
      '',
      '| registry | bytes/round | CPU ms/round | wall ms/round |',
      '| --- | ---: | ---: | ---: |',
      ...conv,
      '',
      '### Catch-up (target: bytes within 2× the items’ own size)',
      '',
      '| case | items missing | items’ own bytes | bytes moved | ratio | wall ms | CPU ms | CPU µs/item | rounds |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      fresh,
      onePct,
      '',
      `CPU per caught-up item / raw verify: see the table (one item costs its acceptance: ≥ 1 Ed25519 verify of ${raw.toFixed(1)} µs).`,
      '',
      '### Registration across ten in-process nodes (a line; 20 registrations on node 0)',
      '',
      '| measure | value |',
      '| --- | ---: |',
      ...reg,
    ].join('\n')
  },
}
