/**
 * A real node behind a real HTTP server for API tests: `serveApi` on
 * 127.0.0.1 with an OS-chosen port, and request helpers that record every
 * status so a suite can assert that nothing answered 500.
 */
import { randomBytes } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { expect } from 'vitest'
import type { NodeConfig } from '../../node/config.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { serveApi, type ServedApi, type ServeOptions } from '../../api/server.js'
import { startNode, stopAll, type TestNodeOptions } from '../helpers/mesh.js'

/** A node with its API. */
export interface ApiFixture {
  readonly node: MeshNode
  readonly api: ServedApi
  readonly url: string
  /** Every status answered so far. */
  readonly statuses: number[]
  /** The operator token the API was served with. */
  readonly token: string
  /**
   * JSON request through fetch, as the operator (the token is sent unless
   * `headers` carries its own `authorization`, or `''` to send none).
   */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>
  /** JSON request with no credential at all: another local user. */
  anon(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>
  /** A request with full control of headers (Host, Content-Type, raw body). */
  raw(opts: RawRequest): Promise<ApiResponse>
  stop(): Promise<void>
}

/** An answer: status, headers and parsed JSON (or text). */
export interface ApiResponse {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any
  readonly text: string
}

/** A raw request. */
export interface RawRequest {
  readonly method: string
  readonly path: string
  readonly headers?: Record<string, string>
  readonly body?: string | Buffer
}

/** A node configuration for tests (rate limit off unless given). */
export function testConfig(overrides: Partial<NodeConfig> = {}): NodeConfig {
  return {
    home: '/nonexistent',
    port: 0,
    host: '127.0.0.1',
    p2pPort: 0,
    db: ':memory:',
    name: 'api-test',
    peers: [],
    maxSkewMs: 5 * 60 * 1000,
    rateLimit: 0,
    trustProxy: [],
    allowedHosts: [],
    trustLoopback: false,
    ...overrides,
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** Send a raw HTTP request to `url`. */
export function rawRequest(url: string, opts: RawRequest): Promise<ApiResponse> {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const headers = { ...(opts.headers ?? {}) }
    const noHost = headers.host === ''
    if (noHost) delete headers.host
    const req = httpRequest(
      { host: u.hostname, port: u.port, method: opts.method, path: opts.path, headers, setHost: !noHost },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parse(text), text })
        })
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    if (opts.body !== undefined) req.write(opts.body)
    req.end()
  })
}

/** Start a node and serve its API. */
export async function startApi(
  config: Partial<NodeConfig> = {},
  serve: ServeOptions = {},
  nodeOpts: TestNodeOptions = {},
): Promise<ApiFixture> {
  const node = await startNode(nodeOpts)
  const token = serve.token ?? randomBytes(32).toString('base64url')
  const api = await serveApi(node, testConfig(config), { ...serve, token })
  const statuses: number[] = []
  const record = (r: ApiResponse): ApiResponse => {
    statuses.push(r.status)
    return r
  }
  const request = async (
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<ApiResponse> => {
    const res = await fetch(api.url + path, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    })
    const text = await res.text()
    return record({ status: res.status, headers: Object.fromEntries(res.headers), body: parse(text), text })
  }
  return {
    node,
    api,
    url: api.url,
    token,
    statuses,
    call: (method, path, body, headers = {}) => {
      const auth = headers.authorization
      const { authorization: _a, ...rest } = headers
      const bearer = auth === undefined ? `Bearer ${token}` : auth
      const withAuth: Record<string, string> = bearer === '' ? {} : { authorization: bearer }
      return request(method, path, body, { ...rest, ...withAuth })
    },
    anon: (method, path, body, headers = {}) => request(method, path, body, headers),
    raw: async (opts) => record(await rawRequest(api.url, opts)),
    stop: async () => {
      await api.close()
      await stopAll([node])
    },
  }
}

/** Assert that no request of a fixture was answered 500 (502 only says a peer was unreachable). */
export function expectNo500(fx: ApiFixture | undefined): void {
  if (fx) expect(fx.statuses.filter((s) => s >= 500 && s !== 502)).toEqual([])
}
