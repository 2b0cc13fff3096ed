/**
 * Direct delivery (docs/protocol.md §10, issue 12): ten in-process nodes over
 * the memory transport, each dialling node 0. Node 1 sends N direct messages
 * to an agent of node 9, then N broadcasts: how many nodes store and audit
 * each (the work a message costs a node), the process CPU per message and
 * the time until the last receipt, against a raw node:crypto Ed25519 verify
 * measured in the same run.
 */
import { performance } from 'node:perf_hooks'
import type { MeshNode } from '../../node/mesh-node.js'
import { OPERATOR } from '../../node/services/authority.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { fmtInt, rawVerifyUs, type BenchModule } from './bench-kit.js'

const NODES = 10
/** Messages of each kind: each kind from its own agent, under the 120 a DID may send per minute (node/limits.ts). */
const N = 100
/**
 * Production gossip and DHT timings: the test helper's DHT self-query every 0.5 s made the idle mesh's CPU
 * larger and burstier than a message's, and the CPU above idle came out negative.
 */
const INIT = { antiEntropyMs: 3_600_000, dhtQuerySelfInterval: undefined, heartbeatInterval: 1_000 }

function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since)
  return (d.user + d.system) / 1000
}

/** Per node: copies of the messages `ids` it stores and audit entries naming them. */
function work(nodes: readonly MeshNode[], ids: ReadonlySet<string>): { m: number; a: number }[] {
  return nodes.map((n) => {
    const m = n.store.messages.list({ limit: 1_000_000 }).filter((x) => ids.has(x.id)).length
    const rows = n.store.auditEntries.entries(0, n.store.auditEntries.count())
    const a = rows.filter((r) =>
      ids.has((JSON.parse(r.entry) as { envelopeId: string | null }).envelopeId ?? ''),
    ).length
    return { m, a }
  })
}

/** CPU ms per wall ms of the idle mesh (heartbeats, DHT), to subtract from a measured period. */
async function idleRate(): Promise<number> {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  await new Promise((resolve) => setTimeout(resolve, 3_000))
  return cpuMs(c0) / (performance.now() - t0)
}

async function run(): Promise<string> {
  const hub = await startNode({ init: INIT })
  const nodes = [hub]
  for (let i = 1; i < NODES; i++) {
    nodes.push(await startNode({ peers: [hub.info().multiaddrs[0]!], init: INIT }))
  }
  try {
    const sender = nodes[1]!
    const host = nodes[NODES - 1]!
    const from = (await sender.registerAgent('sender')).identity.did
    const fromB = (await sender.registerAgent('broadcaster')).identity.did
    const to = (await host.registerAgent('recipient')).identity.did
    await waitFor(() => nodes.every((n) => [from, fromB, to].every((did) => n.store.agents.get(did))), {
      timeout: 60_000,
    })
    await waitFor(() => nodes.every((n) => n.mesh.meshPeers('meshsig/v1/messages').length > 0), { timeout: 30_000 })
    const raw = rawVerifyUs()
    const rows: string[] = []
    for (const [label, fromDid, toDid] of [
      ['direct', from, to],
      ['broadcast', fromB, null],
    ] as const) {
      const ids = new Set<string>()
      const idle = await idleRate()
      const c0 = process.cpuUsage()
      const t0 = performance.now()
      for (let i = 0; i < N; i++) {
        ids.add((await sender.sendMessage({ authority: OPERATOR, fromDid, toDid, message: `m${i}` })).id)
      }
      const copies = toDid === null ? NODES : 2
      await waitFor(() => work(nodes, ids).reduce((t, x) => t + x.m, 0) === copies * N && sender.undelivered() === 0, {
        timeout: 180_000,
        interval: 200,
      })
      const ms = performance.now() - t0
      const busy = cpuMs(c0)
      // the idle rate before and after the messages, averaged: the mesh's background work comes in bursts
      const idleMean = (idle + (await idleRate())) / 2
      const cpuUs = ((busy - idleMean * ms) * 1000) / N
      const w = work(nodes, ids)
      const storing = w.filter((x) => x.m > 0).length
      const auditing = w.filter((x) => x.a > 0).length
      rows.push(
        `| ${label} | ${storing} | ${auditing} | ${fmtInt(w.reduce((s, x) => s + x.m, 0))} | ${cpuUs.toFixed(0)} (${(cpuUs / raw).toFixed(1)}×) | ${fmtInt(ms)} |`,
      )
    }
    return [
      '## Direct delivery',
      '',
      `${NODES} in-process nodes (memory transport, production gossip and DHT timings, each dialling node 0, one process, so CPU is the whole`,
      `mesh's); node 1 sends ${N} messages one after the other to an agent of node ${NODES - 1}, then ${N} broadcasts (from another of its agents).`,
      `Raw Ed25519 verify (node:crypto, same run): **${raw.toFixed(1)} µs**. Idle CPU: the mesh's rate over 3 s before and 3 s after the messages.`,
      '',
      '| messages | nodes storing them | nodes auditing them | stored copies | mesh CPU per message above idle, µs (÷ raw verify) | wall ms until all stored (and receipted) |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...rows,
    ].join('\n')
  } finally {
    await stopAll(nodes)
  }
}

/** The delivery benchmark module. */
export const deliveryBench: BenchModule = { name: 'delivery', run }
