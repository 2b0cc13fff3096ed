/**
 * `serveApi`: the HTTP server of a running node — the Express API and the
 * WebSocket event stream on one port (`ws://host:port`), listening on
 * `config.host:config.port` (127.0.0.1:4888 by default).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import type { NodeConfig } from '../node/config.js'
import { MeshsigError } from '../node/core/errors.js'
import type { MeshNode } from '../node/mesh-node.js'
import { createApi } from './app.js'
import { apiOptionsFromConfig, type ApiOptions } from './options.js'
import { attachEventStream } from './ws-stream.js'

/** Extra settings of `serveApi` beyond the node configuration. */
export interface ServeOptions {
  /** The API bearer token (from `ensureApiToken`); required when bound off loopback. */
  readonly token?: string
  /** Extra Host names the API answers to (e.g. a DNS name of this server). */
  readonly allowedHosts?: readonly string[]
  /** Worker threads for signature verification (default: one per spare core). */
  readonly verifyWorkers?: number
  /** Answer the hot endpoints outside Express (default true). */
  readonly fastPath?: boolean
}

/** A listening API server. */
export interface ServedApi {
  /** Base URL, e.g. `http://127.0.0.1:4888`. */
  readonly url: string
  /** Stop accepting, close open connections and WebSocket clients. */
  close(): Promise<void>
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

function urlOf(server: Server, host: string): string {
  const { port } = server.address() as AddressInfo
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`
}

/**
 * Requests Node's HTTP parser refuses before any handler runs (a malformed
 * request line, headers over 16 KiB) get the API's error shape too, not an
 * empty 400/431, and the connection is closed.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || (err.code === 'ECONNRESET' && socket.destroyed)) {
    socket.destroy()
    return
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW'
  const body = JSON.stringify({
    error: tooLarge ? 'request headers are too large' : 'malformed HTTP request',
    code: 'INVALID_INPUT',
  })
  const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  )
}

/** Serve `node`'s API and event stream; resolves once listening. */
export async function serveApi(node: MeshNode, config: NodeConfig, opts: ServeOptions = {}): Promise<ServedApi> {
  const extra: Partial<ApiOptions> = {
    ...(opts.token !== undefined ? { token: opts.token } : {}),
    ...(opts.allowedHosts !== undefined ? { allowedHosts: opts.allowedHosts } : {}),
    ...(opts.verifyWorkers !== undefined ? { verifyWorkers: opts.verifyWorkers } : {}),
    ...(opts.fastPath !== undefined ? { fastPath: opts.fastPath } : {}),
  }
  const api = createApi(node, apiOptionsFromConfig(config, extra))
  const server = createServer(api.handler)
  server.headersTimeout = 20_000
  server.requestTimeout = 30_000
  server.keepAliveTimeout = 5_000
  server.on('clientError', answerClientError)
  try {
    await listen(server, config.port, config.host)
  } catch (err) {
    await api.close()
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message
    const hint = reason === 'EADDRINUSE' ? ' (address in use; choose another port with --port)' : ''
    throw new MeshsigError('INVALID_INPUT', `cannot listen on ${config.host}:${config.port}: ${reason}${hint}`)
  }
  const stream = attachEventStream(server, node, api.options, { onDrop: () => api.metrics.streamDropped() })
  api.countStreamClients(() => stream.clients())
  return {
    url: urlOf(server, config.host),
    close: async () => {
      await stream.close()
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      await api.close()
    },
  }
}
