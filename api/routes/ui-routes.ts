/**
 * The browser faces of a node: the live dashboard (`GET /`) and the public
 * signature verifier (`GET /verify`), one Vue app built by Vite into
 * `ui/dist`. Pages are answered with a strict Content-Security-Policy and
 * `no-cache`; hashed assets under `/assets` are cached for a year. Only GET
 * and HEAD are handled here: `POST /verify` stays the API, and
 * `GET /verify` asked for JSON answers a short hint instead of the page.
 * When the UI has not been built, the pages answer 503 with how to build it.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import express, { Router, type Request, type Response } from 'express'

/** Paths that answer the app's HTML. */
export const UI_PAGES: readonly string[] = ['/', '/verify']

/** Body of the 503 answer when `ui/dist` is missing. */
export const UI_NOT_BUILT = 'dashboard not built: run npm run build\n'

/** Options of `uiRoutes`. */
export interface UiRoutesOptions {
  /** Folder of the built UI (default: `ui/dist` of the meshsig checkout or package). */
  readonly distDir?: string
}

/** What `GET /verify` answers a client that asks for JSON. */
export const VERIFY_HINT = {
  endpoint: 'POST /verify',
  contentType: 'application/json',
  body: { message: 'the exact signed text', signature: 'base64 Ed25519 signature', did: 'did:msig:… (or publicKey)' },
  page: 'open /verify in a browser for the public verifier',
} as const

/**
 * The `ui/dist` folder next to this module's project root: walks up from
 * this file (`api/routes/` in the sources, `dist/api/routes/` when built)
 * to the first folder holding `ui/`.
 */
export function defaultUiDistDir(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'ui', 'index.html')) || existsSync(join(dir, 'ui', 'dist'))) return join(dir, 'ui', 'dist')
    const up = dirname(dir)
    if (up === dir) break
    dir = up
  }
  return join(from, '..', '..', 'ui', 'dist')
}

const SAFE_HOST = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i

/**
 * The Content-Security-Policy of the UI pages: everything from this origin
 * only, no inline script or style, no framing; the WebSocket may go to this
 * host only (named explicitly for browsers whose `'self'` does not cover
 * `ws:`). `host` is the request's Host header, already checked by the Host
 * guard; anything not shaped like a host name is left out.
 */
export function uiContentSecurityPolicy(host: string | undefined): string {
  const ws = host !== undefined && SAFE_HOST.test(host) ? ` ws://${host} wss://${host}` : ''
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    `connect-src 'self'${ws}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ')
}

function setPageHeaders(req: Request, res: Response): void {
  res.setHeader('Content-Security-Policy', uiContentSecurityPolicy(req.headers.host))
  res.setHeader('Cache-Control', 'no-cache')
  res.setHeader('X-Content-Type-Options', 'nosniff')
  res.setHeader('X-Frame-Options', 'DENY')
  res.setHeader('Referrer-Policy', 'no-referrer')
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin')
}

async function readIndex(distDir: string): Promise<string | undefined> {
  try {
    return await readFile(join(distDir, 'index.html'), 'utf8')
  } catch {
    return undefined
  }
}

/** Routes of the dashboard and verifier pages and their assets (GET and HEAD only). */
export function uiRoutes(opts: UiRoutesOptions = {}): Router {
  const distDir = opts.distDir ?? defaultUiDistDir()
  const r = Router()
  const page = async (req: Request, res: Response): Promise<void> => {
    if (req.path !== '/') res.setHeader('Vary', 'Accept') // the page or a JSON hint, by Accept
    if (req.path !== '/' && req.accepts(['html', 'json']) === 'json') {
      res.json(VERIFY_HINT)
      return
    }
    const html = await readIndex(distDir)
    if (html === undefined) {
      res.status(503).type('text/plain').setHeader('Cache-Control', 'no-store').send(UI_NOT_BUILT)
      return
    }
    setPageHeaders(req, res)
    res.type('html').send(html)
  }
  for (const path of UI_PAGES) r.get(path, page)
  r.use(
    '/assets',
    (_req, res, next) => {
      res.removeHeader('Cache-Control') // the API's no-store default (app.ts): hashed assets are cached for a year
      next()
    },
    express.static(join(distDir, 'assets'), {
      index: false,
      redirect: false,
      dotfiles: 'ignore',
      immutable: true,
      maxAge: '365d',
      setHeaders: (res) => res.setHeader('X-Content-Type-Options', 'nosniff'),
    }),
  )
  return r
}
