/**
 * Dashboard under load, in headless Chromium (issue 14): a node with 300
 * agents and a history of messages between them, the dashboard open at
 * 1440×900, then signed messages streaming at 10 and 50 per second. For
 * each rate, over a 10 s window: the share of wall time the page's main
 * thread was busy (CDP `Performance.getMetrics` TaskDuration), frames per
 * second (a requestAnimationFrame counter), and how far behind the stream
 * the page was (the largest delay between an event's emission and its
 * display, `data-lag-ms`). The node runs in this process, so its signing
 * competes with the browser for the same cores.
 */
import { performance } from 'node:perf_hooks'
import { chromium } from 'playwright-core'
import { serveApi } from '../../api/server.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { OPERATOR } from '../../node/services/authority.js'
import { CHROMIUM, ensureUiBuilt } from '../e2e/e2e-fixture.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import type { BenchModule } from './bench-kit.js'

const AGENTS = 300
const HISTORY = 900
const RATES = [10, 50] as const
const WARMUP_MS = 3_000
const WINDOW_MS = 10_000

/** Deterministic PRNG (mulberry32), so every run sends the same pairs. */
function prng(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface Row {
  readonly rate: number
  readonly busy: number
  readonly fps: number
  readonly maxLagMs: number
  readonly sent: number
}

function sendOne(node: MeshNode, dids: readonly string[], random: () => number, i: number): Promise<unknown> {
  const from = dids[Math.floor(random() * dids.length)]!
  let to = dids[Math.floor(random() * dids.length)]!
  if (to === from) to = dids[(dids.indexOf(from) + 1) % dids.length]!
  return node.sendMessage({ fromDid: from, toDid: to, message: `load ${i}`, authority: OPERATOR })
}

/** Send `rate` messages a second (in ticks of 100 ms) until `stop()`; returns how many were sent. */
function stream(node: MeshNode, dids: readonly string[], rate: number): { stop(): Promise<number> } {
  const random = prng(rate)
  let sent = 0
  const pending: Promise<unknown>[] = []
  const timer = setInterval(() => {
    for (let i = 0; i < rate / 10; i++) pending.push(sendOne(node, dids, random, sent++))
  }, 100)
  return {
    stop: async () => {
      clearInterval(timer)
      await Promise.all(pending)
      return sent
    },
  }
}

const FRAME_COUNTER = `(() => {
  const w = window; w.__frames = 0
  const tick = () => { w.__frames++; w.__raf = requestAnimationFrame(tick) }
  w.__raf = requestAnimationFrame(tick)
})()`

async function seed(node: MeshNode): Promise<string[]> {
  const dids: string[] = []
  for (let i = 0; i < AGENTS; i += 50) {
    const batch = Array.from({ length: Math.min(50, AGENTS - i) }, (_, j) =>
      node.registerAgent(`agent-${String(i + j).padStart(3, '0')}`, [{ type: `skill-${(i + j) % 12}` }]),
    )
    for (const r of await Promise.all(batch)) dids.push(r.identity.did)
  }
  const random = prng(1)
  for (let i = 0; i < HISTORY; i += 100)
    await Promise.all(Array.from({ length: 100 }, (_, j) => sendOne(node, dids, random, i + j)))
  return dids
}

async function measure(node: MeshNode, dids: readonly string[], url: string): Promise<{ rows: Row[]; loadMs: number }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] })
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    const cdp = await page.context().newCDPSession(page)
    await cdp.send('Performance.enable')
    const t0 = performance.now()
    await page.goto(url + '/')
    await page
      .locator(`[data-testid="agent-graph"][data-laid-out="true"][data-nodes="${AGENTS}"]`)
      .waitFor({ timeout: 60_000 })
    const loadMs = performance.now() - t0
    const rows: Row[] = []
    for (const rate of RATES) rows.push(await window_(page, cdp, node, dids, rate))
    return { rows, loadMs }
  } finally {
    await browser.close()
  }
}

type Cdp = Awaited<ReturnType<import('playwright-core').BrowserContext['newCDPSession']>>

async function taskSeconds(cdp: Cdp): Promise<number> {
  const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] }
  return metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0
}

async function window_(
  page: import('playwright-core').Page,
  cdp: Cdp,
  node: MeshNode,
  dids: readonly string[],
  rate: number,
): Promise<Row> {
  const load = stream(node, dids, rate)
  await new Promise((r) => setTimeout(r, WARMUP_MS))
  await page.evaluate(FRAME_COUNTER)
  const busy0 = await taskSeconds(cdp)
  const start = performance.now()
  let maxLagMs = 0
  while (performance.now() - start < WINDOW_MS) {
    await new Promise((r) => setTimeout(r, 500))
    maxLagMs = Math.max(maxLagMs, Number(await page.getAttribute('[data-testid="dashboard"]', 'data-lag-ms')))
  }
  const seconds = (performance.now() - start) / 1000
  const frames = (await page.evaluate('(cancelAnimationFrame(window.__raf), window.__frames)')) as number
  const busy = ((await taskSeconds(cdp)) - busy0) / seconds
  const sent = await load.stop()
  await waitFor(async () => Number(await page.getAttribute('[data-testid="dashboard"]', 'data-applied')) > 0)
  return { rate, busy, fps: frames / seconds, maxLagMs, sent }
}

/** The dashboard benchmark module. */
export const dashboardBench: BenchModule = {
  name: 'dashboard',
  async run() {
    await ensureUiBuilt()
    const node = await startNode({ name: 'bench-dashboard' })
    const api = await serveApi(node, {
      home: '/nonexistent',
      port: 0,
      host: '127.0.0.1',
      p2pPort: 0,
      db: ':memory:',
      name: 'bench-dashboard',
      peers: [],
      maxSkewMs: 300_000,
      rateLimit: 0,
      trustProxy: [],
      allowedHosts: [],
      trustLoopback: false,
    })
    try {
      const dids = await seed(node)
      const { rows, loadMs } = await measure(node, dids, api.url)
      return report(rows, loadMs)
    } finally {
      await api.close()
      await stopAll([node])
    }
  },
}

function report(rows: readonly Row[], loadMs: number): string {
  const lines = [
    '## Dashboard under load (headless Chromium)',
    '',
    `${AGENTS} agents, ${HISTORY} messages of history, 1440×900, one ${WINDOW_MS / 1000} s window per rate after ` +
      `${WARMUP_MS / 1000} s of warm-up. Busy = main-thread task time / wall time (CDP TaskDuration); fps = ` +
      'requestAnimationFrame callbacks per second; behind = the largest delay between an event and its display. ' +
      'Targets: under 30 % busy and at least 50 fps at 50 msg/s, never more than 1 s behind.',
    '',
    `Load until the graph is laid out (physics stabilised once, then off): ${Math.round(loadMs)} ms.`,
    '',
    '| messages/s | main thread busy | fps | max behind (ms) | sent in window + warm-up |',
    '| ---: | ---: | ---: | ---: | ---: |',
  ]
  for (const r of rows)
    lines.push(`| ${r.rate} | ${(r.busy * 100).toFixed(1)} % | ${r.fps.toFixed(1)} | ${r.maxLagMs} | ${r.sent} |`)
  return lines.join('\n')
}
