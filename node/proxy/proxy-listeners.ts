/**
 * The signing proxy's listening sockets: its default listener and one per
 * attributed agent, all bound together (a port that cannot be bound closes
 * the others) and closed together. Each is guarded as the API is
 * (node/connection-guard.ts, decision 0083): a connection silent before its
 * first request is closed, and they share the process's connection pool.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { guardHttpConnections } from '../connection-guard.js'

/** Handles one request on one listener. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void

/** One listener to open: its label (undefined = the default listener) and port (0 = OS-chosen). */
export interface ListenerSpec {
  readonly label: string | undefined
  readonly port: number
}

/** A listener that listens: its label and the port it got. */
export interface BoundListener {
  readonly label: string | undefined
  readonly port: number
}

/** Listeners that all listen, in the order asked for. */
export interface BoundListeners {
  readonly bound: readonly BoundListener[]
  /** Stop listening and close every connection. */
  close(): Promise<void>
}

function listen(handler: RequestHandler, port: number, host: string): Promise<Server> {
  const server = createServer(handler)
  guardHttpConnections(server, 'proxy')
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve(server)
    })
  })
}

function closeServers(servers: readonly Server[]): Promise<void> {
  const closing = servers.map(
    (server) =>
      new Promise<void>((done) => {
        server.close(() => done())
        server.closeAllConnections()
      }),
  )
  return Promise.all(closing).then(() => undefined)
}

/**
 * Bind every listener on `host`, each with the handler `handlerFor(label)`
 * gives; when one cannot listen, close the others and reject with its error.
 */
export async function listenAll(
  specs: readonly ListenerSpec[],
  host: string,
  handlerFor: (label: string | undefined) => RequestHandler,
): Promise<BoundListeners> {
  const servers: Server[] = []
  const bound: BoundListener[] = []
  try {
    for (const spec of specs) {
      const server = await listen(handlerFor(spec.label), spec.port, host)
      servers.push(server)
      bound.push({ label: spec.label, port: (server.address() as AddressInfo).port })
    }
  } catch (err) {
    await closeServers(servers)
    throw err
  }
  return { bound, close: () => closeServers(servers) }
}
