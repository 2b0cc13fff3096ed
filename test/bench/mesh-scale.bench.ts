/**
 * Proof at scale (issue 12): 10 and 30 real libp2p nodes in one process over
 * the memory transport, in a seeded sparse random topology, with production
 * gossip and DHT timings. Per registration and per direct message
 * (docs/protocol.md §10), per node: wire bytes above its idle rate, gossip
 * validations, acceptance calls, deliveries, sync rounds and rows stored,
 * for the node that acted, the recipient's node and the others (max and
 * sum); the process CPU per operation above idle against a raw Ed25519
 * verify of the same run. Then separate `meshsig start` processes
 * (mesh-scale-procs.ts).
 */
import { performance } from 'node:perf_hooks'
import type { MeshNode } from '../../node/mesh-node.js'
import { OPERATOR } from '../../node/services/authority.js'
import { stopAll } from '../helpers/mesh.js'
import {
  diffCounters,
  meterNode,
  storedRows,
  startSparseMesh,
  type NodeCounters,
  type StoredRows,
} from '../helpers/mesh-meter.js'
import { prng } from '../helpers/topology.js'
import { waitFor } from '../helpers/wait-for.js'
import { fmtInt, rawVerifyUs, type BenchModule } from './bench-kit.js'
import { processSection } from './mesh-scale-procs.js'

/** Production timings (no test shortcuts); checkpoints out of the way so each window holds only its operations. */
const INIT = { heartbeatInterval: 1_000, dhtQuerySelfInterval: undefined, checkpointIntervalMs: 3_600_000 }
/** Registrations measured one by one (on distinct nodes, which then host the pairs' agents). */
const REGISTRATIONS = 6
/** Registrations in one batch, for the CPU figure. */
const CPU_BATCH = 20
const PER_PAIR = 30
const SETTLE_MS = 2_000

/** One measured window: per node counters and row growth, wall ms, process CPU ms. */
interface Window {
  readonly counters: NodeCounters[]
  readonly rows: StoredRows[]
  readonly ms: number
  readonly cpu: number
}

interface Meshed {
  readonly nodes: MeshNode[]
  readonly meters: NodeCounters[]
  /** Idle windows (before the operations and after them). */
  readonly idle: Window[]
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since)
  return (d.user + d.system) / 1000
}

/** Run `fn` and return what every node did meanwhile. */
async function measure(m: Pick<Meshed, 'nodes' | 'meters'>, fn: () => Promise<void>): Promise<Window> {
  const before = m.meters.map((c) => ({ ...c }))
  const rows0 = m.nodes.map(storedRows)
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  await fn()
  const ms = performance.now() - t0
  const cpu = cpuMs(c0)
  const counters = m.meters.map((c, i) => diffCounters(c, before[i]!))
  const rows = m.nodes.map((n, i) => {
    const [r, r0] = [storedRows(n), rows0[i]!]
    return { messages: r.messages - r0.messages, agents: r.agents - r0.agents, audit: r.audit - r0.audit }
  })
  return { counters, rows, ms, cpu }
}

async function startMeshed(count: number): Promise<Meshed> {
  const { nodes } = await startSparseMesh(count, { seed: 12, extra: Math.round(count / 3), init: INIT })
  await waitFor(() => nodes.every((n) => n.mesh.meshPeers('meshsig/v1/registry').length > 0), {
    timeout: 120_000,
    interval: 200,
  })
  await sleep(15_000) // first syncs, identify, DHT tables settle
  const meters = nodes.map(meterNode)
  const idle = [await measure({ nodes, meters }, () => sleep(10_000))]
  return { nodes, meters, idle }
}

/** Node `i`'s idle rate of counter `k` per wall ms (mean of the idle windows). */
function idleRate(m: Meshed, i: number, k: keyof NodeCounters): number {
  return m.idle.reduce((s, w) => s + w.counters[i]![k] / w.ms, 0) / m.idle.length
}

/** Some nodes in one window holding `ops` operations. */
interface Sample {
  readonly w: Window
  readonly who: readonly number[]
  readonly ops: number
}

/**
 * One table row per operation: within a sample the nodes' values are summed
 * or their max taken, divided by the sample's operations; across samples the
 * mean (sum) or the max (max). Wire bytes are above each node's idle rate.
 */
function row(m: Meshed, label: string, samples: readonly Sample[], agg: 'max' | 'sum'): string {
  const value = (f: (w: Window, i: number) => number): number => {
    const per = samples.map(({ w, who, ops }) => {
      const xs = who.map((i) => f(w, i))
      return (agg === 'max' ? Math.max(...xs) : xs.reduce((a, x) => a + x, 0)) / ops
    })
    return agg === 'max' ? Math.max(...per) : per.reduce((a, x) => a + x, 0) / per.length
  }
  const c = (k: keyof NodeCounters): number => value((w, i) => w.counters[i]![k])
  const wire = (k: 'wireSent' | 'wireRecv'): string =>
    fmtInt(value((w, i) => w.counters[i]![k] - idleRate(m, i, k) * w.ms))
  const r = (k: keyof StoredRows): string => value((w, i) => w.rows[i]![k]).toFixed(2)
  const cells = [label, `${wire('wireSent')} / ${wire('wireRecv')}`, c('gossip').toFixed(2), c('ingests').toFixed(2)]
  cells.push(
    (c('deliveredIn') + c('deliveredOut')).toFixed(2),
    `${c('syncRounds').toFixed(2)} (${fmtInt(c('syncBytes'))} B)`,
  )
  cells.push(`${r('messages')} / ${r('agents')} / ${r('audit')}`)
  return `| ${cells.join(' | ')} |`
}

/** Idle rows: per second, the busiest node and all nodes. */
function idleRows(m: Meshed): string[] {
  const all = m.nodes.map((_, i) => i)
  const per = (i: number, k: keyof NodeCounters): number => idleRate(m, i, k) * 1000
  const line = (label: string, f: (k: keyof NodeCounters) => number): string =>
    `| ${label} | ${fmtInt(f('wireSent'))} / ${fmtInt(f('wireRecv'))} | ${f('gossip').toFixed(2)} | ${f('ingests').toFixed(2)} | ${f('deliveredIn').toFixed(2)} | ${f('syncRounds').toFixed(2)} (${fmtInt(f('syncBytes'))} B) | – |`
  return [
    line('idle, per second: busiest node', (k) => Math.max(...all.map((i) => per(i, k)))),
    line(`idle, per second: all ${m.nodes.length} nodes (sum)`, (k) => all.reduce((s, i) => s + per(i, k), 0)),
  ]
}

/** Process CPU per operation above idle (µs, and ÷ raw verify). */
function cpuPerOp(m: Meshed, w: Window, ops: number, raw: number): string {
  const idle = m.idle.reduce((s, x) => s + x.cpu / x.ms, 0) / m.idle.length
  const us = ((w.cpu - idle * w.ms) * 1000) / ops
  return `${fmtInt(us)} µs (${(us / raw).toFixed(1)}× raw verify)`
}

/** `REGISTRATIONS` registrations on distinct random nodes, one window each (until every node holds it, then 2 s). */
async function registrations(
  m: Meshed,
  random: () => number,
): Promise<{ ws: Window[]; origins: number[]; dids: string[] }> {
  const origins: number[] = []
  while (origins.length < REGISTRATIONS) {
    const i = Math.floor(random() * m.nodes.length)
    if (!origins.includes(i)) origins.push(i)
  }
  const dids: string[] = []
  const ws: Window[] = []
  for (const [k, i] of origins.entries()) {
    ws.push(
      await measure(m, async () => {
        const did = (await m.nodes[i]!.registerAgent(`scale-${k}`)).identity.did
        dids.push(did)
        await waitFor(() => m.nodes.every((n) => n.store.agents.get(did)), { timeout: 120_000, interval: 20 })
        await sleep(SETTLE_MS) // sync rounds the registration started
      }),
    )
  }
  return { ws, origins, dids }
}

/** `CPU_BATCH` registrations on random nodes back to back, until every node holds them all. */
async function registrationBatch(m: Meshed, random: () => number): Promise<Window> {
  return measure(m, async () => {
    const dids: string[] = []
    for (let k = 0; k < CPU_BATCH; k++) {
      const node = m.nodes[Math.floor(random() * m.nodes.length)]!
      dids.push((await node.registerAgent(`batch-${k}`)).identity.did)
    }
    await waitFor(() => m.nodes.every((n) => dids.every((d) => n.store.agents.get(d))), {
      timeout: 120_000,
      interval: 100,
    })
    await sleep(SETTLE_MS)
  })
}

type Pair = readonly [sender: number, from: string, host: number, to: string]

/** `perPair` direct messages per pair (interleaved), until every one is receipted; `settle` ms more. */
async function directs(m: Meshed, pairs: readonly Pair[], perPair: number, settle: number): Promise<Window> {
  return measure(m, async () => {
    const ids: [MeshNode, string][] = []
    for (let k = 0; k < perPair; k++) {
      for (const [s, fromDid, , toDid] of pairs) {
        const node = m.nodes[s]!
        ids.push([node, (await node.sendMessage({ authority: OPERATOR, fromDid, toDid, message: `m${k}` })).id])
      }
    }
    await waitFor(() => ids.every(([n, id]) => n.delivery(id)?.state === 'delivered'), {
      timeout: 120_000,
      interval: 20,
    })
    await sleep(settle) // anything the deliveries started elsewhere
  })
}

const HEAD =
  '| node(s), per operation | wire bytes sent / received, above idle | gossip msgs | acceptance calls | deliveries | sync rounds (bytes) | rows stored (msgs / agents / audit) |'
const RULE = '| --- | ---: | ---: | ---: | ---: | ---: | ---: |'

async function scaleCase(count: number, raw: number): Promise<string> {
  process.stderr.write(`mesh-scale: ${count} in-process nodes…\n`)
  const m = await startMeshed(count)
  try {
    const all = m.nodes.map((_, i) => i)
    const random = prng(count)
    const reg = await registrations(m, random)
    const batch = await registrationBatch(m, random)
    const o = reg.origins
    const pairs: Pair[] = [0, 2, 4].map((k) => [o[k]!, reg.dids[k]!, o[k + 1]!, reg.dids[k + 1]!])
    const warm = await directs(m, pairs, 1, 0)
    const w = await directs(m, pairs, PER_PAIR, 1_000)
    m.idle.push(await measure(m, () => sleep(10_000)))
    const ops = pairs.length * PER_PAIR
    const [senders, hosts] = [pairs.map((p) => p[0]), pairs.map((p) => p[2])]
    const off = all.filter((i) => !senders.includes(i) && !hosts.includes(i))
    const regs = (pick: (o: number) => number[]): Sample[] => reg.ws.map((x, k) => ({ w: x, who: pick(o[k]!), ops: 1 }))
    const others = (i: number): number[] => all.filter((j) => j !== i)
    return [
      `### ${count} nodes in one process (${count - 1 + Math.round(count / 3)} links)`,
      '',
      HEAD,
      RULE,
      row(
        m,
        'registration: the registering node',
        regs((i) => [i]),
        'max',
      ),
      row(m, 'registration: any other node (max)', regs(others), 'max'),
      row(m, `registration: the ${count - 1} others (sum)`, regs(others), 'sum'),
      row(m, "direct message: the sender's node", [{ w, who: senders, ops }], 'sum'),
      row(m, "direct message: the recipient's node", [{ w, who: hosts, ops }], 'sum'),
      row(m, `direct message: any node not on the path (max of ${off.length})`, [{ w, who: off, ops }], 'max'),
      row(m, `direct message: the ${off.length} not on the path (sum)`, [{ w, who: off, ops }], 'sum'),
      row(m, 'first message of a pair (dial): all nodes (sum)', [{ w: warm, who: all, ops: pairs.length }], 'sum'),
      ...idleRows(m),
      '',
      `Process CPU above idle (all ${count} nodes): per registration ${cpuPerOp(m, batch, CPU_BATCH, raw)} (${CPU_BATCH} back to back);`,
      `per direct message ${cpuPerOp(m, w, ops, raw)} (${ops}); idle ${m.idle.map((x) => ((x.cpu / x.ms) * 100).toFixed(1)).join(' % and ')} % of a core (before, after).`,
      `Wall ms until all ${count} nodes held a registration: ${reg.ws.map((x) => fmtInt(x.ms - SETTLE_MS)).join(', ')}.`,
    ].join('\n')
  } finally {
    await stopAll(m.nodes)
  }
}

/** The mesh-scale benchmark module. */
export const meshScaleBench: BenchModule = {
  name: 'mesh-scale',
  async run(): Promise<string> {
    const raw = rawVerifyUs()
    const ten = await scaleCase(10, raw)
    const thirty = await scaleCase(30, raw)
    const procs =
      process.env.MESH_SCALE_PROCS === '0' ? '(processes skipped: MESH_SCALE_PROCS=0)' : await processSection(raw)
    return [
      '## Mesh at scale (in-process meshes and node processes)',
      '',
      `Raw Ed25519 verify (node:crypto, same run): **${raw.toFixed(1)} µs**.`,
      'In-process nodes: memory transport, seeded sparse random topology (a random tree plus count/3 chords, node i',
      `dialling its lower ends only), production gossip and DHT timings, 15 s to settle. ${REGISTRATIONS} registrations on distinct`,
      `random nodes, one window each (until every node holds it, then ${SETTLE_MS / 1000} s); three sender→recipient pairs of those agents (six`,
      `distinct nodes), one first message each, then ${PER_PAIR} direct messages each. Wire bytes: sent / received on the node’s`,
      'connections (encrypted frames, every protocol; a connection’s own handshake is not seen) minus its idle rate',
      '(10 s before and after; small negatives are idle noise). Other columns: raw counts per operation.',
      '',
      ten,
      '',
      thirty,
      '',
      procs,
    ].join('\n')
  },
}
