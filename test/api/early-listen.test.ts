/**
 * `meshsig start` binds its API port before the node is built (issue 13):
 * `/health` answers `"mesh": "starting"` with the node's identity at once,
 * a request sent meanwhile is not lost but answered by the full API once it
 * takes over, and the Host guard holds from the first moment.
 */
import { randomBytes } from 'node:crypto'
import { request } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { listenApi, type ApiListener } from '../../api/listener.js'
import { resolveApiOptions } from '../../api/options.js'
import { serveApi, type ServedApi } from '../../api/server.js'
import { startingHealth } from '../../cli/commands/start-early.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { freshIdentity, startNode, stopAll } from '../helpers/mesh.js'
import { testConfig } from './api-fixture.js'

const OPERATOR_TOKEN = randomBytes(32).toString('base64url')

let listener: ApiListener | undefined
let served: ServedApi | undefined
let node: MeshNode | undefined

afterEach(async () => {
  await served?.close()
  if (served === undefined) await listener?.close()
  await stopAll([node])
  ;[listener, served, node] = [undefined, undefined, undefined]
})

async function early(): Promise<{ listener: ApiListener; identity: ReturnType<typeof freshIdentity> }> {
  const identity = freshIdentity()
  const config = testConfig()
  const opts = resolveApiOptions({ host: config.host, token: OPERATOR_TOKEN })
  listener = await listenApi(config, opts, () => startingHealth(config, identity, false))
  return { listener, identity }
}

describe('the API port bound before the node', () => {
  it('answers /health as "starting" with the identity the node will report', async () => {
    const { listener, identity } = await early()
    const res = await fetch(listener.url + '/health')
    expect(res.status).toBe(200)
    const health = (await res.json()) as Record<string, unknown>
    expect(health).toMatchObject({ status: 'ok', did: identity.did, mesh: 'starting', multiaddrs: [] })
    node = await startNode({ identity })
    expect(health.peerId).toBe(node.info().peerId)
    expect(health.didKey).toBe(node.info().didKey)
  })

  it('holds a request sent while starting and lets the full API answer it', async () => {
    const { listener, identity } = await early()
    const pending = fetch(listener.url + '/agents', { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } })
    node = await startNode({ identity })
    await node.registerAgent('early-bird')
    served = await serveApi(node, testConfig(), { token: OPERATOR_TOKEN, listener })
    const res = await pending
    expect(res.status).toBe(200)
    expect(JSON.stringify(await res.json())).toContain('early-bird')
    const health = (await (await fetch(listener.url + '/health')).json()) as { mesh: string }
    expect(health.mesh).toBe('ready')
  })

  it('refuses a foreign Host from the first moment (no early /health for it)', async () => {
    const { listener, identity } = await early()
    const answer = new Promise<number>((resolve, reject) => {
      const req = request(listener.url + '/health', { headers: { host: 'evil.example' } }, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      req.on('error', reject)
      req.end()
    })
    node = await startNode({ identity })
    served = await serveApi(node, testConfig(), { token: OPERATOR_TOKEN, listener })
    expect(await answer).toBe(403)
  })
})
