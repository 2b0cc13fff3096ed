/**
 * Mesh benchmarks on real in-process libp2p nodes over loopback TCP:
 * gossip propagation latency across ten nodes in a sparse random topology,
 * sustained loss-free throughput along a line of three (cheap validator, and
 * one Ed25519 verify per message as the real path does), and the resident
 * memory of one idle node in a child process of its own.
 *
 * All nodes of a measurement share this process and its event loop, so the
 * numbers are upper bounds of what separate machines would see.
 */
import { spawn, spawnSync } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { generateKeyPair, verifySignature } from '../../node/core/index.js'
import { MESSAGES_TOPIC, createMeshP2P, type MeshP2P, type ValidationResult } from '../../node/p2p/index.js'
import { waitFor } from '../helpers/wait-for.js'
import { fmtInt, type BenchModule } from './bench-kit.js'
import { prng, sparseEdges } from '../helpers/topology.js'

type Validator = (data: Uint8Array) => ValidationResult
type Receiver = (data: Uint8Array, node: number) => void

interface BenchNet {
  readonly nodes: MeshP2P[]
  readonly edges: ReadonlyArray<readonly [number, number]>
}

/** Start one node per index; node i dials exactly the lower ends of its edges and nothing else. */
async function startNet(
  count: number,
  edges: ReadonlyArray<readonly [number, number]>,
  validate: Validator,
  receive: Receiver,
): Promise<BenchNet> {
  const nodes: MeshP2P[] = []
  for (let i = 0; i < count; i++) {
    const targets = edges.filter(([a]) => a === i).map(([, b]) => nodes[b]!)
    const allowed = new Set(targets.map((n) => n.peerId))
    const node = await createMeshP2P({
      seed: generateKeyPair().seed,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrap: targets.map((n) => n.multiaddrs()[0]!),
      allow: ['/ip4/127.0.0.1/ipcidr/8'],
      denyDialPeer: (id) => !allowed.has(id),
      heartbeatInterval: 200,
      validate: (_topic, data) => validate(data),
      onMessage: (_topic, data) => receive(data, i),
      syncProvider: () => [],
    })
    await node.start()
    nodes.push(node)
  }
  const net = { nodes, edges }
  await waitForMesh(net)
  return net
}

async function waitForMesh(net: BenchNet): Promise<void> {
  const neighbours = (i: number): string[] =>
    net.edges.filter(([a, b]) => a === i || b === i).map(([a, b]) => net.nodes[a === i ? b : a]!.peerId)
  await waitFor(
    () => net.nodes.every((n, i) => neighbours(i).every((id) => n.meshPeers(MESSAGES_TOPIC).includes(id))),
    { timeout: 60_000, message: 'bench mesh' },
  )
}

async function stopNet(net: BenchNet): Promise<void> {
  await Promise.all(net.nodes.map((n) => n.stop()))
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

/** Gossip latency publish → onMessage on every other node, in ms. */
async function measureLatency(count: number, messages: number): Promise<{ lat: number[]; edges: number }> {
  const lat: number[] = []
  const decoder = new TextDecoder()
  const receive: Receiver = (data) => {
    const { t } = JSON.parse(decoder.decode(data)) as { t: number }
    lat.push(performance.now() - t)
  }
  const random = prng(7)
  const net = await startNet(count, sparseEdges(count, 3, random), () => 'accept', receive)
  try {
    for (let m = 0; m < messages; m++) {
      const from = net.nodes[Math.floor(random() * count)]!
      await from.publish(MESSAGES_TOPIC, new TextEncoder().encode(JSON.stringify({ m, t: performance.now() })))
      await waitFor(() => lat.length >= (m + 1) * (count - 1), { timeout: 30_000, interval: 1 })
    }
  } finally {
    await stopNet(net)
  }
  return { lat: lat.sort((a, b) => a - b), edges: net.edges.length }
}

/** Pre-signed payloads: 64-byte Ed25519 signature || body. */
function signedPayloads(n: number): { payloads: Uint8Array[]; publicKey: Uint8Array } {
  const key = generateKeyPair()
  const encoder = new TextEncoder()
  const payloads = Array.from({ length: n }, (_, i) => {
    const body = encoder.encode(JSON.stringify({ i, body: 'Summarise the Q1 deviations by region.', ts: Date.now() }))
    const out = new Uint8Array(64 + body.length)
    out.set(key.sign(body), 0)
    out.set(body, 64)
    return out
  })
  return { payloads, publicKey: key.publicKey }
}

interface ThroughputResult {
  readonly label: string
  readonly sent: number
  /** Deliveries at the second node and at the far end of the line. */
  readonly delivered: readonly [number, number]
  readonly seconds: number
}

function lineEdges(count: number): Array<[number, number]> {
  return Array.from({ length: count - 1 }, (_, i): [number, number] => [i + 1, i])
}

/**
 * Publish `n` signed payloads from one end of a line of `count` nodes, never
 * more than `window` ahead of the far end, until the far end has them all.
 */
async function measureThroughput(label: string, verify: boolean, n: number, count: number): Promise<ThroughputResult> {
  const window = 256
  const { payloads, publicKey } = signedPayloads(n)
  const delivered = new Array<number>(count).fill(0)
  const far = count - 1
  const validate: Validator = verify
    ? (data) => (verifySignature(data.subarray(64), data.subarray(0, 64), publicKey) ? 'accept' : 'reject')
    : () => 'accept'
  const net = await startNet(count, lineEdges(count), validate, (_d, i) => void (delivered[i] = delivered[i]! + 1))
  const started = performance.now()
  let seconds = NaN
  try {
    for (const [sent, payload] of payloads.entries()) {
      if (sent - delivered[far]! >= window) {
        await waitFor(() => sent - delivered[far]! < window, { timeout: 30_000, interval: 1 })
      }
      await net.nodes[0]!.publish(MESSAGES_TOPIC, payload)
    }
    await waitFor(() => delivered[far]! >= n, { timeout: 60_000, interval: 1 })
  } catch {
    // loss shows in the delivered counts
  } finally {
    seconds = (performance.now() - started) / 1000
    await stopNet(net)
  }
  return { label, sent: n, delivered: [delivered[1]!, delivered[far]!], seconds }
}

const IDLE_CHILD = `
const [polyfill, p2p] = process.argv.slice(-2)
const base = process.memoryUsage().rss
await import(polyfill)
const { createMeshP2P } = await import(p2p)
const loaded = process.memoryUsage().rss
const node = await createMeshP2P({ seed: crypto.getRandomValues(new Uint8Array(32)), validate: () => 'accept', onMessage() {}, syncProvider: () => [] })
await node.start()
await new Promise((r) => setTimeout(r, 3000))
globalThis.gc()
console.log(JSON.stringify({ base, loaded, idle: process.memoryUsage().rss }))
await node.stop()
`

/** RSS of one child process at start, after loading node/p2p, and with one idle node (TCP + WS listeners). */
interface IdleRss {
  readonly base: number
  readonly loaded: number
  readonly idle: number
}

/** Compile node/p2p (and what it imports) to plain JS, as `npm start` runs it, into node_modules/.cache. */
function compileP2P(): URL {
  const root = new URL('../../', import.meta.url)
  const out = new URL('node_modules/.cache/meshsig-bench-p2p/', root)
  const tsc = new URL('node_modules/typescript/bin/tsc', root)
  const files = ['node/p2p/index.ts', 'node/polyfill.ts'].map((f) => new URL(f, root).pathname)
  const flags = ['--target', 'ES2023', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--skipLibCheck']
  const args = [
    tsc.pathname,
    ...flags,
    '--types',
    'node',
    '--rootDir',
    root.pathname,
    '--outDir',
    out.pathname,
    ...files,
  ]
  spawnSync(process.execPath, args, { stdio: 'ignore' })
  return out
}

async function measureIdleRss(): Promise<IdleRss> {
  const out = compileP2P()
  const urls = ['node/polyfill.js', 'node/p2p/index.js'].map((f) => new URL(f, out).href)
  const child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', IDLE_CHILD, ...urls], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let text = ''
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  const line = text.trim().split('\n').pop() ?? ''
  if (code !== 0 || !line.startsWith('{')) throw new Error(`idle-node child failed (${code}): ${text.slice(0, 200)}`)
  return JSON.parse(line) as IdleRss
}

const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1)

function throughputRow(r: ThroughputResult): string {
  const rate = r.delivered[1] / r.seconds
  const loss = `${r.sent - r.delivered[0]} / ${r.sent - r.delivered[1]}`
  return `| ${r.label} | ${fmtInt(r.sent)} | ${fmtInt(rate)} | ${loss} |`
}

async function throughputRows(): Promise<ThroughputResult[]> {
  return [
    await measureThroughput('3 nodes, accept', false, 5000, 3),
    await measureThroughput('3 nodes, Ed25519 verify', true, 5000, 3),
    await measureThroughput('2 nodes, Ed25519 verify', true, 5000, 2),
  ]
}

async function report(): Promise<string> {
  const nodes = 10
  const latency = await measureLatency(nodes, 200)
  const rows = await throughputRows()
  const rss = await measureIdleRss()
  const p99 = percentile(latency.lat, 99)
  const rate = rows[1]!.delivered[1] / rows[1]!.seconds
  return [
    '## Mesh (libp2p gossip over loopback TCP)',
    '',
    'Real libp2p nodes (Noise, Yamux, gossipsub with StrictSign, heartbeat 200 ms) in one process: they share one',
    'event loop, so every Ed25519 operation of every node runs on the same thread.',
    '',
    `### Propagation latency: ${nodes} nodes, sparse random topology (${latency.edges} links), ${fmtInt(latency.lat.length)} deliveries`,
    '',
    'One message at a time from a random node; latency = publish → `onMessage` on each other node.',
    '',
    '| p50 | p90 | p99 | max |',
    '| ---: | ---: | ---: | ---: |',
    `| ${[50, 90, 99, 100].map((p) => `${percentile(latency.lat, p).toFixed(1)} ms`).join(' | ')} |`,
    '',
    '### Sustained throughput along a line, publisher at one end, ≤ 256 undelivered in flight',
    '',
    'Each payload is a 64-byte Ed25519 signature and its ~90-byte body; "Ed25519 verify" validators check it with',
    '`verifySignature` at every hop. Per message and hop the process also signs (StrictSign) and verifies the',
    'gossipsub signature, so a 3-node line costs 1 sign + 4 verifies per message on one thread.',
    '',
    '| line, validator at each hop | messages | delivered/s at the far end | lost (2nd node / far end) |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map(throughputRow),
    '',
    '### Memory of one idle node (own process, compiled JS, TCP + WS listeners, 3 s idle)',
    '',
    `- RSS of bare Node: ${mb(rss.base)} MB; after loading node/p2p and libp2p: ${mb(rss.loaded)} MB;`,
    `  with the node started and idle: **${mb(rss.idle)} MB**`,
    '',
    `Targets: p99 < 100 ms (${p99.toFixed(1)} ms); ≥ 2,000 verified messages/s (${fmtInt(rate)} along 3 nodes in one`,
    `process); idle node RSS < 150 MB (${mb(rss.idle)} MB).`,
  ].join('\n')
}

/** The mesh benchmark module. */
export const p2pBench: BenchModule = { name: 'p2p', run: report }

export default p2pBench
