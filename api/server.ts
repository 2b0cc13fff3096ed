/**
 * `serveApi`: the HTTP server of a running node — the Express API and the
 * WebSocket event stream on one port (`ws://host:port`), listening on
 * `config.host:config.port` (127.0.0.1:4888 by default).
 */
import type { NodeConfig } from '../node/config.js'
import type { MeshNode } from '../node/mesh-node.js'
import { createApi } from './app.js'
import { bindApiPort, createApiServer, urlOf, type ApiListener } from './listener.js'
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
  /** The port already bound by `listenApi` (meshsig start: /health answers while the node is built). */
  readonly listener?: ApiListener
}

/** A listening API server. */
export interface ServedApi {
  /** Base URL, e.g. `http://127.0.0.1:4888`. */
  readonly url: string
  /** Stop accepting, close open connections and WebSocket clients. */
  close(): Promise<void>
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
  const server = opts.listener?.server ?? createApiServer(api.handler)
  if (opts.listener === undefined) {
    try {
      await bindApiPort(server, config)
    } catch (err) {
      await api.close()
      throw err
    }
  }
  const stream = attachEventStream(server, node, api.options, api.upgrades, {
    onDrop: () => api.metrics.streamDropped(),
  })
  api.countStreamClients(() => stream.clients())
  opts.listener?.serve(api.handler)
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
