/**
 * A node whose start fails leaves nothing running (issue 10): the parts
 * already started are stopped in reverse order, so the mesh ports it had
 * opened can be bound again, no timer of its own is left, its signing worker
 * threads are gone, its store is closed, and the caller gets the original error.
 */
import { createServer, type Server } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { MeshsigError, peerIdFromPublicKey } from '../../node/core/index.js'
import type { NamedStartable } from '../../node/lifecycle.js'
import { createLogger } from '../../node/logger.js'
import { MeshNode, type MeshNodeInit } from '../../node/mesh-node.js'
import { OPERATOR } from '../../node/services/authority.js'
import { createIdentity, loadIdentity, rotateIdentity } from '../../node/identity/index.js'
import { freshIdentity, tempDir } from '../helpers/mesh.js'
import { freePort } from '../helpers/node-process.js'
import { trackTimers, type TimerRegistry } from '../helpers/timer-registry.js'

let timers: TimerRegistry | undefined
const held: Server[] = []
/** The node's log lines (JSON), to see which part failed. */
let logged: Record<string, unknown>[] = []

afterEach(async () => {
  timers?.uninstall()
  timers = undefined
  logged = []
  await Promise.all(held.splice(0).map((s) => new Promise((resolve) => s.close(resolve))))
})

/** Hold `port` on 127.0.0.1 (resolves once listening; rejects with EADDRINUSE when it is taken). */
function bind(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
}

/** A TCP port and the next one (the mesh's WebSocket), both free now. */
async function portPair(): Promise<number> {
  for (;;) {
    const port = await freePort()
    const ws = await bind(port + 1).catch(() => undefined)
    if (ws === undefined) continue
    await new Promise((resolve) => ws.close(resolve))
    return port
  }
}

function init(port: number, extra: readonly NamedStartable[] = []): MeshNodeInit {
  return {
    name: 'failing',
    identity: freshIdentity(),
    dbPath: ':memory:',
    transports: 'tcp+ws',
    listen: [`/ip4/127.0.0.1/tcp/${port}`, `/ip4/127.0.0.1/tcp/${port + 1}/ws`],
    dhtQuerySelfInterval: 500,
    heartbeatInterval: 200,
    checkpointIntervalMs: 50,
    replayPruneIntervalMs: 50,
    antiEntropyMs: 50,
    extraStartables: extra,
    logger: createLogger({
      level: 'warn',
      json: true,
      write: (l) => logged.push(JSON.parse(l) as Record<string, unknown>),
    }),
  }
}

/** What a failed start must leave behind: nothing (ports bindable, no timer, no worker, store closed). */
async function expectNothingLeft(node: MeshNode, port: number): Promise<void> {
  held.push(await bind(port), await bind(port + 1))
  // no interval at all; one-shot timeouts (libp2p's own 1 s debounce) may still fire, but none that is long or repeats
  const intervals = timers!.live().filter((t) => t.kind === 'interval')
  expect(intervals.map((t) => t.stack)).toEqual([])
  const until = Date.now() + 5_000
  while (timers!.live().length > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50))
  expect(timers!.live().map((t) => `${t.kind} ${t.ms} ms\n${t.stack}`)).toEqual([])
  expect(node.workerThreads()).toBe(0)
  expect(() => node.store.agents.list()).toThrow(/not open/)
}

describe('a node whose start fails', () => {
  it('the mesh WebSocket port taken: the TCP listener it had opened is closed again, the error is the port in use', async () => {
    const port = await portPair()
    const taken = await bind(port + 1)
    timers = trackTimers()
    const node = await MeshNode.create(init(port))
    const err = await node.start().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Error)
    expect(`${(err as Error).message} ${String((err as Error).cause)}`).toMatch(/EADDRINUSE|address already in use/i)
    await new Promise((resolve) => taken.close(resolve))
    await expectNothingLeft(node, port)
    expect(node.info().mesh).toBe('starting')
    expect(logged.find((l) => l.msg === 'start failed; stopping what had started')).toMatchObject({ part: 'mesh' })
  })

  it('the last part fails after the mesh, timers and signing threads are up: all of them are stopped', async () => {
    const port = await portPair()
    const seen: { workers: number; intervals: number } = { workers: 0, intervals: 0 }
    const failing: NamedStartable = {
      name: 'failing-part',
      part: {
        start: async () => {
          const agent = await node.registerAgent('alice', [{ type: 'chat' }])
          const send = (body: string) =>
            node.sendMessage({ fromDid: agent.record.did, toDid: null, message: body, authority: OPERATOR })
          await Promise.all([send('one'), send('two'), send('three')])
          seen.workers = node.workerThreads()
          seen.intervals = timers!.live().filter((t) => t.kind === 'interval').length
          throw new MeshsigError('UNREACHABLE', 'a part that cannot start')
        },
        stop: () => undefined,
      },
    }
    timers = trackTimers()
    const node = await MeshNode.create(init(port, [failing]))
    const err = await node.start().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MeshsigError)
    expect((err as MeshsigError).code).toBe('UNREACHABLE')
    // the failure came with everything else running: listeners, the node's timers and signing threads
    expect(seen.workers).toBeGreaterThan(0)
    expect(seen.intervals).toBeGreaterThanOrEqual(4)
    await expectNothingLeft(node, port)
    expect(logged.find((l) => l.msg === 'start failed; stopping what had started')).toMatchObject({
      part: 'failing-part',
      code: 'UNREACHABLE',
    })
  })
})

/** A node started on `port` with a fresh identity in the meshsig home `dir` (so that it can rotate its own key). */
async function startedInHome(dir: string, port: number): Promise<MeshNode> {
  createIdentity(dir)
  const node = await MeshNode.create({ ...init(port), identity: loadIdentity(dir), home: dir })
  await node.start()
  return node
}

describe('a node stopped while its mesh moves to a rotated key', () => {
  it('stop() waits for the move: afterwards nothing listens and nothing runs', async () => {
    const home = tempDir()
    let peer: MeshNode | undefined
    try {
      const port = await portPair()
      timers = trackTimers()
      const node = await startedInHome(home.dir, port)
      // a connected peer: the move then closes a connection and dials it again, over several turns of the loop
      const peerPort = await portPair()
      peer = await MeshNode.create({ ...init(peerPort), peers: [node.info().multiaddrs[0]!] })
      await peer.start()
      while (node.peers().length === 0) await new Promise((resolve) => setTimeout(resolve, 20))
      const { rotation } = rotateIdentity(home.dir)
      const rotating = node.rotateAgent({ did: node.did, envelope: rotation, authority: OPERATOR })
      let settled = false
      void rotating.finally(() => (settled = true)).catch(() => undefined)
      while (node.info().mesh === 'ready' && !settled) await new Promise((resolve) => setImmediate(resolve))
      expect(settled).toBe(false) // the move is under way
      await node.stop()
      await rotating.catch(() => undefined)
      await peer.stop()
      peer = undefined
      await expectNothingLeft(node, port)
    } finally {
      await peer?.stop()
      home.cleanup()
    }
  }, 60_000)

  it('a move that fails (its WebSocket port taken meanwhile) is retried until the mesh runs under the new key', async () => {
    const home = tempDir()
    let node: MeshNode | undefined
    try {
      const port = await portPair()
      node = await startedInHome(home.dir, port)
      // take the WebSocket port the moment the old libp2p node lets it go, before the new one binds it (a race
      // this test wins nearly always; when the new node was quicker, it rotates again and races again)
      let taken: Server | undefined
      let identity = loadIdentity(home.dir)
      for (let attempt = 0; attempt < 5 && taken === undefined; attempt++) {
        const rotated = rotateIdentity(home.dir)
        identity = rotated.identity
        const rotating = node.rotateAgent({ did: node.did, envelope: rotated.rotation, authority: OPERATOR })
        let settled = false
        void rotating.finally(() => (settled = true)).catch(() => undefined)
        while (taken === undefined && !settled) taken = await bind(port + 1).catch(() => undefined)
        await rotating // the rotation stands whatever becomes of the move
      }
      expect(taken).toBeDefined()
      expect(node.info().mesh).toBe('starting')
      expect(logged.some((l) => /EADDRINUSE|address already in use/i.test(JSON.stringify(l)))).toBe(true)
      await new Promise((resolve) => taken!.close(resolve))
      const moved = peerIdFromPublicKey(identity.keyPair.publicKey)
      while (node.info().mesh !== 'ready') await new Promise((resolve) => setTimeout(resolve, 50))
      expect(node.mesh.peerId).toBe(moved)
    } finally {
      await node?.stop()
      home.cleanup()
    }
  }, 60_000)
})
