/**
 * A node and its API on a free loopback port, filled by an anonymous local
 * user's agent with `messages` messages of `body` to itself (the stalled
 * reader suites of attack reviews 98 and 101). The rate limit is off only to
 * store them quickly; what those suites assert is per request.
 */
import { randomBytes } from 'node:crypto'
import type { Socket } from 'node:net'
import { expect } from 'vitest'
import { createApi } from '../../api/app.js'
import { bindApiPort, createApiServer, urlOf } from '../../api/listener.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { startNode, stopAll } from '../helpers/mesh.js'

/** The filled node, its API's URL, the server side of every connection, and how to stop it all. */
export interface FilledApi {
  readonly node: MeshNode
  readonly url: string
  readonly serverSockets: Socket[]
  stop(): Promise<void>
}

/** Start a node and its API and store `messages` messages of `body`, sent as a registered agent. */
export async function startFilledApi(messages: number, body: string): Promise<FilledApi> {
  const node = await startNode()
  const api = createApi(node, { host: '127.0.0.1', token: randomBytes(32).toString('base64url'), rateLimit: 0 })
  const server = createApiServer(api.handler)
  const serverSockets: Socket[] = []
  server.on('connection', (s: Socket) => serverSockets.push(s))
  await bindApiPort(server, { host: '127.0.0.1', port: 0 })
  const url = urlOf(server, '127.0.0.1')
  const stop = async (): Promise<void> => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
    await api.close()
    await stopAll([node])
  }
  const reg = await fetch(url + '/agents/register', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'filler' }),
  })
  expect(reg.status).toBe(201)
  const { identity } = (await reg.json()) as { identity: { did: string; credential: string } }
  const send = JSON.stringify({ fromDid: identity.did, toDid: identity.did, message: body })
  for (let i = 0; i < messages; i++) {
    const sent = await fetch(url + '/messages/send', {
      method: 'POST',
      headers: { authorization: `Bearer ${identity.credential}`, 'content-type': 'application/json' },
      body: send,
    })
    expect(sent.status).toBe(200)
    await sent.arrayBuffer()
  }
  return { node, url, serverSockets, stop }
}
