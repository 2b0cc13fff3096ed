/**
 * Registry reconciliation (docs/protocol.md §9, decision 0014) between real
 * nodes over TCP, the serving node in a process of its own (sync-peer.ts) so
 * each side's CPU is its own process's: a node catches up a peer holding
 * 1k, 10k and 100k agents from nothing (bytes against the items' own size,
 * time, CPU per side, the slowest `/health` answer and event-loop stall on
 * the catching-up node), then runs anti-entropy rounds against it while
 * converged (bytes and CPU per round), then catches up the 1 % of agents
 * the peer added meanwhile. Bytes are counted twice: as the protocol counts
 * them (requests and frames) and on the wire (the kernel's TCP counters,
 * Noise and Yamux included, idle traffic of the same duration subtracted).
 * The mesh cost of a registration across ten in-process nodes closes the
 * section. Raw node:crypto Ed25519 verify is measured in the same run.
 */
import { PerformanceObserver, monitorEventLoopDelay, performance } from 'node:perf_hooks'
import type { MeshNode } from '../../node/mesh-node.js'
import type { SyncResult } from '../../node/services/sync.js'
import type { TurnSlice } from '../../node/services/sync-turns.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { fmtInt, rawVerifyUs, type BenchModule } from './bench-kit.js'
import { pollHealth, serveHealth, spawnServingPeer, tcpPort, wireBytes, type ServingPeer } from './sync-bench-kit.js'
import { QUIET } from './sync-peer.js'

/** What the bench reaches inside a node (its private parts, read-only use). */
interface Inside {
  readonly registrySync: {
    readonly client: { round(peer: string, slice?: TurnSlice): Promise<SyncResult | undefined> }
    readonly index: { fingerprint(p: string): { count: number; fp: Uint8Array } }
  }
  readonly gossip: { validate(topic: string, data: Uint8Array, via: string, origin?: string): unknown }
}
const inside = (n: MeshNode): Inside => (n as unknown as { parts: Inside }).parts

const NO_ANTI_ENTROPY = { antiEntropyMs: 3_600_000 }
/** Registry sizes (agents); `SYNC_BENCH_SIZES=1000` for a quick look. */
const SIZES = (process.env.SYNC_BENCH_SIZES ?? '1000,10000,100000').split(',').map(Number)
/** Agents of the join from several peers (`SYNC_BENCH_JOIN=10000` for a quick look). */
const JOIN_AGENTS = Number(process.env.SYNC_BENCH_JOIN ?? 30_000)
/** Anti-entropy rounds measured per registry size. */
const ROUNDS = 200

function root(n: MeshNode): string {
  const f = inside(n).registrySync.index.fingerprint('')
  return `${f.count}:${Buffer.from(f.fp).toString('hex')}`
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since)
  return (d.user + d.system) / 1000
}

function cpuUs(): number {
  const u = process.cpuUsage()
  return u.user + u.system
}

/** Count the rounds a node runs (its own and those the mesh starts) with their bytes and passes. */
function meter(n: MeshNode): { bytes: number; rounds: number; passes: number; running: number } {
  const m = { bytes: 0, rounds: 0, passes: 0, running: 0 }
  const client = inside(n).registrySync.client
  const round = client.round.bind(client)
  client.round = async (peer, slice) => {
    m.rounds++
    m.running++
    try {
      const r = await round(peer, slice)
      m.bytes += r?.bytes ?? 0
      m.passes += r?.passes ?? 0
      return r
    } finally {
      m.running--
    }
  }
  return m
}

/** CPU (µs) of both processes and the wire bytes of the connection, read together. */
interface Probe {
  readonly t: number
  readonly local: number
  readonly remote: number
  readonly wire: number
}

async function probe(peer: ServingPeer, port: number): Promise<Probe> {
  const [remote, wire] = await Promise.all([peer.cpuUs(), wireBytes(port)])
  return { t: performance.now(), local: cpuUs(), remote, wire }
}

function since(a: Probe, b: Probe): Probe {
  return { t: b.t - a.t, local: b.local - a.local, remote: b.remote - a.remote, wire: b.wire - a.wire }
}

/** One catch-up: from `start` (a connect or a round) until the node's root equals the peer's. */
async function catchUp(
  label: string,
  node: MeshNode,
  peer: ServingPeer,
  added: { items: number; bytes: number },
  start: () => Promise<unknown>,
): Promise<string> {
  const { peerId, root: target, addr } = await peer.info()
  const port = tcpPort(addr)
  const m = meter(node)
  const api = await serveHealth(node)
  const health = pollHealth(api.url)
  const loop = monitorEventLoopDelay({ resolution: 10 })
  loop.enable()
  let gcMax = 0
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMax = Math.max(gcMax, e.duration)
  })
  gc.observe({ entryTypes: ['gc'] })
  const p0 = await probe(peer, port)
  await start()
  await waitFor(() => m.rounds > 0 && m.running === 0, { timeout: 900_000, interval: 10 })
  while (root(node) !== target && m.rounds < 20) await inside(node).registrySync.client.round(peerId)
  const d = since(p0, await probe(peer, port))
  loop.disable()
  gc.disconnect()
  const h = await health.stop()
  await api.close()
  if (root(node) !== target) throw new Error(`${label}: did not converge`)
  const cells = [label, fmtInt(added.items), fmtInt(added.bytes), fmtInt(m.bytes), (m.bytes / added.bytes).toFixed(2)]
  cells.push(fmtInt(d.wire), (d.wire / added.bytes).toFixed(2), fmtInt(d.t), fmtInt(d.local / 1000))
  cells.push(fmtInt(d.remote / 1000), (d.local / added.items).toFixed(0), `${m.rounds} / ${m.passes}`)
  cells.push(`${fmtInt(h.maxMs)} (${h.polls} polls, ${h.failed} failed)`)
  cells.push(`${fmtInt(loop.max / 1e6)} (longest GC pause ${fmtInt(gcMax)})`)
  return `| ${cells.join(' | ')} |`
}

/** Anti-entropy rounds between converged peers, less idle activity over the same time. */
async function convergedRow(label: string, node: MeshNode, peer: ServingPeer): Promise<string> {
  const { peerId, addr } = await peer.info()
  const port = tcpPort(addr)
  const client = inside(node).registrySync.client
  for (let i = 0; i < 20; i++) await client.round(peerId) // warm-up
  let bytes = 0
  const p0 = await probe(peer, port)
  for (let i = 0; i < ROUNDS; i++) bytes += (await client.round(peerId))?.bytes ?? 0
  const busy = since(p0, await probe(peer, port))
  const i0 = await probe(peer, port)
  await new Promise((r) => setTimeout(r, busy.t))
  const idle = since(i0, await probe(peer, port))
  const per = (x: number, y: number): number => Math.max(0, x - (y * busy.t) / idle.t) / ROUNDS
  const local = per(busy.local, idle.local) / 1000
  const remote = per(busy.remote, idle.remote) / 1000
  const cells = [label, fmtInt(bytes / ROUNDS), fmtInt(per(busy.wire, idle.wire)), local.toFixed(3)]
  cells.push(remote.toFixed(3), (local + remote).toFixed(3), (busy.t / ROUNDS).toFixed(2))
  return `| ${cells.join(' | ')} |`
}

/** Fresh catch-up, converged rounds and the 1 % catch-up at one registry size. */
async function atSize(n: number): Promise<{ conv: string; fresh: string; onePct: string; fillMs: number }> {
  const peer = await spawnServingPeer()
  const t0 = performance.now()
  const all = await peer.fill(n)
  const fillMs = performance.now() - t0
  const node = await startNode({ transports: 'tcp', init: QUIET })
  const { addr } = await peer.info()
  const k = n >= 1000 ? `${n / 1000}k` : String(n)
  try {
    const fresh = await catchUp(`fresh node, ${k} agents`, node, peer, all, () => node.connectPeer(addr))
    const conv = await convergedRow(`${k} agents (${fmtInt(all.items)} items)`, node, peer)
    const more = await peer.fill(n / 100)
    const { peerId } = await peer.info()
    const round = (): Promise<unknown> => inside(node).registrySync.client.round(peerId)
    const onePct = await catchUp(`missing 1 % of ${k} (${fmtInt(n / 100)} agents)`, node, peer, more, round)
    process.stderr.write(`sync bench, ${k}: filled in ${fmtInt(fillMs)} ms\n${fresh}\n${conv}\n${onePct}\n`) // kept if a later size fails
    return { conv, fresh, onePct, fillMs }
  } finally {
    await node.stop()
    await peer.stop()
  }
}

/**
 * A fresh node joining `n` agents from three peers that hold them, connected
 * at once (decision 0040: one round leads, the others interrupt it a slice at
 * a time), against the same node joining from one of them alone: wall time
 * until it holds every agent, and the rounds and passes it ran.
 */
async function threePeerJoin(n: number): Promise<string[]> {
  const peers = [await spawnServingPeer(), await spawnServingPeer(), await spawnServingPeer()]
  const k = n >= 1000 ? `${n / 1000}k` : String(n)
  try {
    await peers[0]!.fill(n)
    const first = (await peers[0]!.info()).addr
    await Promise.all(peers.slice(1).map((p) => p.join(first, n)))
    const addrs = await Promise.all(peers.map(async (p) => (await p.info()).addr))
    const rows: string[] = []
    for (const from of [addrs.slice(0, 1), addrs]) {
      const node = await startNode({ transports: 'tcp', init: QUIET })
      const m = meter(node)
      const t0 = performance.now()
      await Promise.all(from.map((a) => node.connectPeer(a)))
      await waitFor(() => node.store.agents.count() >= n, { timeout: 900_000, interval: 20 })
      const ms = performance.now() - t0
      await node.stop()
      const label = from.length === 1 ? `one peer` : `three peers at once`
      rows.push(`| fresh node, ${k} agents, from ${label} | ${fmtInt(ms)} | ${m.rounds} / ${m.passes} |`)
    }
    return rows
  } finally {
    await Promise.all(peers.map((p) => p.stop()))
  }
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
    const t0 = performance.now()
    const sizes = []
    for (const n of SIZES) sizes.push(await atSize(n))
    const joins = await threePeerJoin(JOIN_AGENTS)
    const reg = await registrationCost(20)
    const rawAfter = rawVerifyUs()
    const fills = sizes.map((s, i) => `${fmtInt(SIZES[i]!)}: ${(s.fillMs / 1000).toFixed(0)} s`).join(', ')
    return [
      '## Registry sync (reconciliation)',
      '',
      `Raw Ed25519 verify (node:crypto, cached KeyObject), same run: **${raw.toFixed(1)} µs** before, ${rawAfter.toFixed(1)} µs after.`,
      'The serving node runs in a process of its own: "client" CPU is the pulling node\'s process, "server" CPU the serving one\'s, each less its idle activity over the same time. Items are `icp` + `reg` per agent. Protocol bytes: requests and frames as the client counts them; wire bytes: both directions of the TCP connection as the kernel counts them (Noise, Yamux, lengths, idle traffic subtracted for rounds).',
      '',
      `### Anti-entropy round between converged peers (mean of ${ROUNDS}; targets < 2 KB and < 5 ms CPU, both sides summed, flat in registry size)`,
      '',
      '| registry | protocol bytes/round | wire bytes/round | CPU ms client | CPU ms server | CPU ms sum | wall ms/round |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...sizes.map((s) => s.conv),
      '',
      '### Catch-up (targets: bytes within 2× the items’ own size; `/health` within 1 s throughout)',
      '',
      '| case | items | items’ own bytes | protocol bytes | ratio | wire bytes | wire ratio | wall ms | CPU ms client | CPU ms server | client CPU µs/item | rounds / passes | slowest /health ms | worst event-loop delay ms |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...sizes.flatMap((s) => [s.fresh, s.onePct]),
      '',
      `Client CPU per item / raw verify: each caught-up item costs its acceptance (≥ 1 Ed25519 verify of ${raw.toFixed(1)} µs). \`/health\` is polled every 100 ms on the catching-up node during each catch-up (latency counted from when the poll was due). Generating and taking up the serving node's agents took ${fills}; the whole section took ${((performance.now() - t0) / 1000).toFixed(0)} s.`,
      '',
      `### A join from several peers at once (${fmtInt(JOIN_AGENTS)} agents; serving nodes in processes of their own)`,
      '',
      'Rounds with different peers take the node-wide turn in slices (decision 0040): one round leads and the others interrupt it for 5 s at a time. Wall time is until the fresh node holds every agent; rounds are counted when they start, passes when their round ends.',
      '',
      '| case | wall ms | rounds / passes |',
      '| --- | ---: | ---: |',
      ...joins,
      '',
      '### Registration across ten in-process nodes (a line; 20 registrations on node 0)',
      '',
      '| measure | value |',
      '| --- | ---: |',
      ...reg,
    ].join('\n')
  },
}
