/**
 * How the node serves the UI (api/routes/ui-routes.ts), without a browser:
 * HTML with a strict CSP for `GET /` and `GET /verify`, a JSON hint for
 * `GET /verify` asked for JSON, `POST /verify` untouched, cached hashed
 * assets, the Host guard in front, and 503 when the UI is not built.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join, resolve } from 'node:path'
import express from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  defaultUiDistDir,
  UI_NOT_BUILT,
  uiContentSecurityPolicy,
  uiRoutes,
  VERIFY_HINT,
} from '../../api/routes/ui-routes.js'
import { generateKeyPair } from '../../node/core/index.js'
import { expectNo500, rawRequest, startApi, type ApiFixture } from '../api/api-fixture.js'
import { ensureUiBuilt } from './e2e-fixture.js'

describe('UI pages served by the node', () => {
  let fx: ApiFixture
  beforeAll(async () => {
    await ensureUiBuilt()
    fx = await startApi({ rateLimit: 2 })
  })
  afterAll(async () => {
    expectNo500(fx)
    await fx?.stop()
  })

  it('answers GET / and GET /verify with the app, a strict CSP and no-cache', async () => {
    for (const path of ['/', '/verify']) {
      const r = await fx.raw({ method: 'GET', path, headers: { accept: 'text/html' } })
      expect(r.status).toBe(200)
      expect(r.headers['content-type']).toMatch(/^text\/html/)
      expect(r.text).toContain('<div id="app"></div>')
      expect(r.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/)
      expect(r.headers['cache-control']).toBe('no-cache')
      expect(r.headers['x-frame-options']).toBe('DENY')
      const csp = String(r.headers['content-security-policy'])
      expect(csp).toContain("default-src 'self'")
      expect(csp).toContain("script-src 'self';")
      expect(csp).toContain("style-src 'self';")
      expect(csp).toContain(`connect-src 'self' ws://${new URL(fx.url).host} wss://${new URL(fx.url).host}`)
      expect(csp).toContain("frame-ancestors 'none'")
      expect(csp).not.toContain('unsafe')
      expect(r.headers['access-control-allow-origin']).toBeUndefined()
    }
  })

  it('answers GET /verify asked for JSON with a hint, and POST /verify stays the API', async () => {
    const hint = await fx.call('GET', '/verify', undefined, { accept: 'application/json' })
    expect(hint.status).toBe(200)
    expect(hint.body).toEqual(VERIFY_HINT)
    // one URL, two answers by Accept: a cache must not give the one for the other
    expect(hint.headers.vary).toMatch(/accept/i)
    const page = await fx.raw({ method: 'GET', path: '/verify', headers: { accept: 'text/html' } })
    expect(page.headers.vary).toMatch(/accept/i)
    const key = generateKeyPair()
    const message = 'hello'
    const signature = Buffer.from(key.sign(new TextEncoder().encode(message))).toString('base64')
    const publicKey = Buffer.from(key.publicKey).toString('base64')
    const r = await fx.call('POST', '/verify', { message, signature, publicKey })
    expect(r.status).toBe(200)
    expect(r.body.valid).toBe(true)
  })

  it('serves hashed assets for a year, and unknown ones as the API 404', async () => {
    const html = (await fx.raw({ method: 'GET', path: '/' })).text
    const js = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!
    const css = /href="(\/assets\/[^"]+\.css)"/.exec(html)![1]!
    for (const path of [js, css]) {
      const r = await fx.raw({ method: 'GET', path })
      expect(r.status).toBe(200)
      expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable')
      expect(r.headers['x-content-type-options']).toBe('nosniff')
    }
    const missing = await fx.raw({ method: 'GET', path: '/assets/nope.js' })
    expect(missing.status).toBe(404)
    expect(missing.body.code).toBe('NOT_FOUND')
  })

  it('answers the API, errors included, never sniffed as another type and never cached', async () => {
    for (const path of ['/health', '/snapshot', '/agents', '/no/such/path', '/metrics']) {
      const r = await fx.raw({ method: 'GET', path })
      expect(r.headers['x-content-type-options'], path).toBe('nosniff')
      expect(r.headers['cache-control'], path).toBe('no-store')
    }
  })

  it('keeps the Host guard in front of the pages', async () => {
    const r = await fx.raw({ method: 'GET', path: '/', headers: { host: 'evil.example' } })
    expect(r.status).toBe(403)
    expect(r.body.code).toBe('FORBIDDEN')
  })

  it('does not count page loads against the API rate limit', async () => {
    for (let i = 0; i < 5; i++) expect((await fx.raw({ method: 'GET', path: '/' })).status).toBe(200)
    const api: number[] = []
    for (let i = 0; i < 3; i++) api.push((await fx.raw({ method: 'GET', path: '/stats' })).status)
    expect(api).toContain(429)
  })
})

describe('uiRoutes without a built UI', () => {
  let server: Server
  let url: string
  beforeAll(async () => {
    const app = express()
    app.use(uiRoutes({ distDir: join(resolve('ui'), 'no-such-dist') }))
    server = createServer(app)
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((r) => server.close(() => r())))

  it('answers 503 with how to build it', async () => {
    const r = await rawRequest(url, { method: 'GET', path: '/' })
    expect(r.status).toBe(503)
    expect(r.text).toBe(UI_NOT_BUILT)
    expect(r.headers['content-type']).toMatch(/^text\/plain/)
  })
})

describe('ui-routes helpers', () => {
  it('finds ui/dist from the sources and from the compiled dist/ folder', () => {
    const expected = join(resolve('.'), 'ui', 'dist')
    expect(defaultUiDistDir(resolve('api/routes'))).toBe(expected)
    expect(defaultUiDistDir(resolve('dist/api/routes'))).toBe(expected)
  })

  it('leaves a Host header that is not a host name out of the CSP', () => {
    expect(uiContentSecurityPolicy('127.0.0.1:4888')).toContain("connect-src 'self' ws://127.0.0.1:4888 wss://")
    expect(uiContentSecurityPolicy('[::1]:4888')).toContain('ws://[::1]:4888')
    const hostile = uiContentSecurityPolicy("localhost; script-src 'unsafe-inline'")
    expect(hostile).toContain("connect-src 'self';")
    expect(hostile).not.toContain('unsafe-inline')
    expect(uiContentSecurityPolicy(undefined)).toContain("connect-src 'self';")
  })
})
