/**
 * Dashboard under load, in headless Chromium (issue 14): a node with 300
 * agents and a history of messages between them, the dashboard open at
 * 1440×900, then signed messages streaming at 10 and 50 per second. For
 * each rate, over a 10 s window: the share of wall time the page's main
 * thread was busy (CDP `Performance.getMetrics` TaskDuration), frames per
 * second (a requestAnimationFrame counter), and how far behind the stream
 * the page was (the largest delay between an event's emission and its
 * display, `data-lag-ms`). The node runs in this process, so its signing
 * competes with the browser for the same cores. On a shared machine the
 * absolute figures move with the load, so the report also gives the
 * page's main-thread time per message in raw node:crypto Ed25519 verifies
 * measured in the same run.
 *
 * `MESHSIG_BENCH_UI_DIST=<dir>` serves another build of the UI (for a
 * before/after comparison in the same conditions); `MESHSIG_BENCH_PROFILE=<file>`
 * writes a CDP CPU profile of the page during the 50 msg/s window.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { chromium } from 'playwright-core'
import { serveApi } from '../../api/server.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { OPERATOR } from '../../node/services/authority.js'
import { CHROMIUM, ensureUiBuilt } from '../e2e/e2e-fixture.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { rawVerifyUs, type BenchModule } from './bench-kit.js'
import { prng } from '../helpers/topology.js'

const AGENTS = 300
const HISTORY = 900
const RATES = [10, 50] as const
const WARMUP_MS = 3_000
const WINDOW_MS = 10_000

interface Row {
  readonly rate: number
  readonly busy: number
  readonly fps: number
  readonly maxLagMs: number
  readonly sent: number
  /** Stream events the page applied during the window. */
  readonly applied: number
  /** Main-thread task time during the window (s). */
  readonly taskSeconds: number
  /** CPU time of the page's main thread during the window (s): unlike task time, not stretched while the thread waits for a core. */
  readonly cpuSeconds: number
  /** Wall time of the window (s). */
  readonly seconds: number
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
  // a page answered by `serveUiFrom` has no address space, so local network access checks would block its stream
  const args = ['--no-sandbox', '--disable-features=LocalNetworkAccessChecks']
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args })
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    page.on('pageerror', (e) => process.stderr.write(`dashboard bench: page error ${String(e)}\n`))
    const dist = process.env.MESHSIG_BENCH_UI_DIST
    if (dist) await serveUiFrom(page, url, dist)
    const cdp = await page.context().newCDPSession(page)
    await cdp.send('Performance.enable')
    const t0 = performance.now()
    await page.goto(url + '/')
    await page
      .locator(`[data-testid="agent-graph"][data-laid-out="true"][data-nodes="${AGENTS}"]`)
      .waitFor({ timeout: 60_000 })
    const loadMs = performance.now() - t0
    const rows: Row[] = []
    for (const rate of RATES) {
      const run = (): Promise<Row> => window_(page, cdp, node, dids, rate)
      rows.push(rate === 50 ? await profiled(cdp, run) : await run())
    }
    return { rows, loadMs }
  } finally {
    await browser.close()
  }
}

const MIME: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' }

/** Answer the page and its assets from another build of the UI (the API and stream still come from the node). */
async function serveUiFrom(page: import('playwright-core').Page, url: string, dist: string): Promise<void> {
  await page.route(url + '/', async (route) =>
    route.fulfill({ contentType: 'text/html', body: await readFile(join(dist, 'index.html')) }),
  )
  await page.route(url + '/assets/**', async (route) => {
    const file = join(dist, 'assets', new URL(route.request().url()).pathname.split('/').pop() ?? '')
    await route.fulfill({ contentType: MIME[extname(file)] ?? 'application/octet-stream', body: await readFile(file) })
  })
}

/**
 * Write a CPU profile of the page while `during` runs, when `MESHSIG_BENCH_PROFILE`
 * names a file; with `MESHSIG_BENCH_TRACE` naming a file, a Chrome trace (devtools.timeline) instead.
 */
async function profiled<T>(cdp: Cdp, during: () => Promise<T>): Promise<T> {
  const trace = process.env.MESHSIG_BENCH_TRACE
  if (trace) return traced(cdp, trace, during)
  const file = process.env.MESHSIG_BENCH_PROFILE
  if (!file) return during()
  await cdp.send('Profiler.enable')
  await cdp.send('Profiler.start')
  const result = await during()
  const { profile } = (await cdp.send('Profiler.stop')) as { profile: unknown }
  await writeFile(file, JSON.stringify(profile))
  return result
}

async function traced<T>(cdp: Cdp, file: string, during: () => Promise<T>): Promise<T> {
  const events: unknown[] = []
  cdp.on('Tracing.dataCollected', (e: { value: unknown[] }) => events.push(...e.value))
  const done = new Promise((r) => cdp.once('Tracing.tracingComplete', r))
  const categories = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink', 'cc', 'gpu', 'v8']
  await cdp.send('Tracing.start', { transferMode: 'ReportEvents', traceConfig: { includedCategories: categories } })
  const result = await during()
  await cdp.send('Tracing.end')
  await done
  await writeFile(file, JSON.stringify({ traceEvents: events }))
  return result
}

type Cdp = Awaited<ReturnType<import('playwright-core').BrowserContext['newCDPSession']>>

/** The page's main-thread task time and CPU time so far (s), from CDP `Performance.getMetrics`. */
async function mainThread(cdp: Cdp): Promise<{ task: number; cpu: number }> {
  const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] }
  const metric = (name: string): number => metrics.find((m) => m.name === name)?.value ?? 0
  return { task: metric('TaskDuration'), cpu: metric('ThreadTime') }
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
  const applied0 = await appliedNow(page)
  const busy0 = await mainThread(cdp)
  const start = performance.now()
  let maxLagMs = 0
  while (performance.now() - start < WINDOW_MS) {
    await new Promise((r) => setTimeout(r, 500))
    maxLagMs = Math.max(maxLagMs, Number(await page.getAttribute('[data-testid="dashboard"]', 'data-lag-ms')))
  }
  const seconds = (performance.now() - start) / 1000
  const frames = (await page.evaluate('(cancelAnimationFrame(window.__raf), window.__frames)')) as number
  const busy1 = await mainThread(cdp)
  const task = busy1.task - busy0.task
  const applied = (await appliedNow(page)) - applied0
  const sent = await load.stop()
  await waitFor(async () => (await appliedNow(page)) > 0)
  return {
    rate,
    busy: task / seconds,
    fps: frames / seconds,
    maxLagMs,
    sent,
    applied,
    taskSeconds: task,
    cpuSeconds: busy1.cpu - busy0.cpu,
    seconds,
  }
}

async function appliedNow(page: import('playwright-core').Page): Promise<number> {
  return Number(await page.getAttribute('[data-testid="dashboard"]', 'data-applied'))
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
      const before = rawVerifyUs()
      const { rows, loadMs } = await measure(node, dids, api.url)
      return report(rows, loadMs, (before + rawVerifyUs()) / 2)
    } finally {
      await api.close()
      await stopAll([node])
    }
  },
}

function report(rows: readonly Row[], loadMs: number, verifyUs: number): string {
  const lines = [
    '## Dashboard under load (headless Chromium)',
    '',
    `${AGENTS} agents, ${HISTORY} messages of history, 1440×900, one ${WINDOW_MS / 1000} s window per rate after ` +
      `${WARMUP_MS / 1000} s of warm-up. Busy = main-thread task time / wall time (CDP TaskDuration); fps = ` +
      'requestAnimationFrame callbacks per second; behind = the largest delay between an event and its display. ' +
      'Targets: under 30 % busy and at least 50 fps at 50 msg/s, never more than 1 s behind. ' +
      'Main thread CPU = CPU time of that thread (CDP ThreadTime) / wall time: not stretched while the thread waits ' +
      'for a core on a loaded machine. CPU per stream event = that CPU time / stream events the page applied, in raw ' +
      'node:crypto Ed25519 verifies (cached KeyObject) measured in the same run. Sent = messages sent in warm-up + window.',
    '',
    `Load until the graph is laid out (physics stabilised once, then off): ${Math.round(loadMs)} ms. ` +
      `Raw verify in this run: ${verifyUs.toFixed(1)} µs.`,
    '',
    '| messages/s | main thread busy | main thread CPU | fps | max behind (ms) | CPU per stream event (raw verifies) | sent |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  for (const r of rows) {
    const perEvent = (r.cpuSeconds * 1e6) / Math.max(1, r.applied) / verifyUs
    const cpu = (r.cpuSeconds / r.seconds) * 100
    lines.push(
      `| ${r.rate} | ${(r.busy * 100).toFixed(1)} % | ${cpu.toFixed(1)} % | ${r.fps.toFixed(1)} | ${r.maxLagMs} | ` +
        `${perEvent.toFixed(1)} | ${r.sent} |`,
    )
  }
  return lines.join('\n')
}
