/**
 * The node's RSS as issue 13 words its targets, on a `meshsig start` of its
 * own with a fresh home (no registry left by the throughput rows): idle
 * (≤ 100 MB), and after 60 s of sends at 32 connections (≤ 200 MB), with the
 * seed's send form `POST /messages/send {fromDid, toDid, message, privateKey}`.
 *
 * The idle node is read twice: 3 s after `"mesh": "ready"`, when what
 * start-up allocated is still in V8's heap (a young generation grown to its
 * 2 × 16 MB while the modules loaded), and after 60 s idle, once V8's memory
 * reducer has collected it (it waits for a low allocation rate, typically
 * 25–45 s after start, at most its 100 s watchdog). After the sends: right
 * after, and 30 s later. MESHSIG_BENCH_RSS_SECONDS changes the length of the
 * send load (default 60).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { load, msToReady, post, rssMb, startNode, stopNode, type Node } from './api-node.js'
import { fmtInt } from './bench-kit.js'

const SECONDS = Number(process.env.MESHSIG_BENCH_RSS_SECONDS ?? 60)
const IDLE_S = 60
const IDLE_MB = 100
const AFTER_SENDS_MB = 200

/** RSS figures (MB) of one node. */
export interface MemoryFigures {
  readonly idleAt3s: number
  readonly idleSettled: number
  readonly sendsPerSec: number
  readonly peakDuringSends: number
  readonly afterSends: number
  readonly afterSendsSettled: number
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function sendLoad(node: Node): Promise<{ perSec: number; peak: number }> {
  const a = (await post(node.url + '/agents/register', { name: 'rss-a' })) as { identity: Record<string, string> }
  const b = (await post(node.url + '/agents/register', { name: 'rss-b' })) as { identity: Record<string, string> }
  const body = {
    fromDid: a.identity.did,
    toDid: b.identity.did,
    message: 'x'.repeat(64),
    privateKey: a.identity.privateKey,
  }
  let peak = 0
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(node.child.pid))), 200)
  try {
    const r = await load(node.url + '/messages/send', body, 32, SECONDS)
    return { perSec: r.requests.average, peak }
  } finally {
    clearInterval(sampler)
  }
}

/** Start a node on a fresh home, read its RSS idle, load it with sends, read it again. */
export async function measureMemory(): Promise<MemoryFigures> {
  const home = mkdtempSync(join(tmpdir(), 'meshsig-rss-bench-'))
  const t0 = performance.now()
  const node = await startNode(home)
  try {
    await msToReady(node, t0)
    await sleep(3000)
    const idleAt3s = rssMb(node.child.pid)
    await sleep((IDLE_S - 3) * 1000)
    const idleSettled = rssMb(node.child.pid)
    const { perSec, peak } = await sendLoad(node)
    const afterSends = rssMb(node.child.pid)
    await sleep(30_000)
    const afterSendsSettled = rssMb(node.child.pid)
    return { idleAt3s, idleSettled, sendsPerSec: perSec, peakDuringSends: peak, afterSends, afterSendsSettled }
  } finally {
    await stopNode(node)
    rmSync(home, { recursive: true, force: true })
  }
}

/** The report lines of `measureMemory`'s figures, with the verdicts on issue 13's targets. */
export function memoryLines(m: MemoryFigures): string[] {
  const mark = (ok: boolean): string => (ok ? 'met' : '**not met**')
  const mb = (x: number): string => `${x.toFixed(0)} MB`
  return [
    `- Node RSS idle (own process, fresh home): ${mb(m.idleAt3s)} 3 s after \`"mesh": "ready"\` (start-up ` +
      `garbage not yet collected); ${mb(m.idleSettled)} after ${IDLE_S} s idle (target ≤ ${IDLE_MB} MB): ` +
      `${mark(m.idleSettled <= IDLE_MB)}.`,
    `- Node RSS after ${SECONDS} s of \`POST /messages/send {…, privateKey}\` at c = 32 on that node ` +
      `(${fmtInt(m.sendsPerSec)} req/s): ${mb(m.afterSends)} right after (target ≤ ${AFTER_SENDS_MB} MB): ` +
      `${mark(m.afterSends <= AFTER_SENDS_MB)}; peak during the sends ${mb(m.peakDuringSends)}; ` +
      `${mb(m.afterSendsSettled)} 30 s later.`,
  ]
}
