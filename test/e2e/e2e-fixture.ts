/**
 * Browser tests of the dashboard and the verifier: a built UI (`ui/dist`,
 * rebuilt with Vite's JS API when missing or older than its sources), a
 * real node behind `serveApi`, and Debian's Chromium driven by
 * playwright-core. Two test files may start at once: the build takes a
 * lock directory so only one of them runs Vite.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { build } from 'vite'

/** The Chromium the tests drive (`MESHSIG_CHROMIUM` to use another). */
export const CHROMIUM = process.env.MESHSIG_CHROMIUM ?? '/usr/bin/chromium'
const UI_DIR = resolve('ui')
const DIST_INDEX = join(UI_DIR, 'dist', 'index.html')
const LOCK = join(tmpdir(), 'meshsig-ui-build.lock')

function newestMtime(path: string): number {
  const st = statSync(path)
  if (!st.isDirectory()) return st.mtimeMs
  let newest = 0
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)))
  return newest
}

/** True when `ui/dist` is missing or older than any UI source. */
export function uiBuildIsStale(): boolean {
  if (!existsSync(DIST_INDEX)) return true
  const built = statSync(DIST_INDEX).mtimeMs
  const sources = ['index.html', 'vite.config.ts', 'src'].map((p) => newestMtime(join(UI_DIR, p)))
  return Math.max(...sources) > built
}

async function takeLock(): Promise<void> {
  for (;;) {
    try {
      mkdirSync(LOCK)
      return
    } catch {
      const held = statSync(LOCK, { throwIfNoEntry: false })
      if (held !== undefined && Date.now() - held.mtimeMs > 120_000) rmSync(LOCK, { force: true, recursive: true })
      await new Promise((r) => setTimeout(r, 200))
    }
  }
}

/** Build the UI unless `ui/dist` is current. */
export async function ensureUiBuilt(): Promise<void> {
  if (!uiBuildIsStale()) return
  await takeLock()
  try {
    if (uiBuildIsStale()) await build({ configFile: join(UI_DIR, 'vite.config.ts'), logLevel: 'warn' })
  } finally {
    rmSync(LOCK, { force: true, recursive: true })
  }
}

/** A browser page with what it logged. */
export interface BrowserSession {
  readonly browser: Browser
  readonly context: BrowserContext
  readonly page: Page
  /** Console errors and uncaught exceptions (CSP violations land here too). */
  readonly errors: string[]
  close(): Promise<void>
}

/** Launch headless Chromium with a fresh profile and open one page. */
export async function openBrowser(): Promise<BrowserSession> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 }, colorScheme: 'dark' })
  const page = await context.newPage()
  const errors: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text())
  })
  page.on('pageerror', (e) => errors.push(String(e)))
  return { browser, context, page, errors, close: () => browser.close() }
}
