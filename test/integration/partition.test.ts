/**
 * A partition and its heal (issue 12), with real processes in real network
 * namespaces: three `meshsig start` processes, one per namespace, each with
 * its own MESHSIG_HOME and bound to its namespace's address. The link of the
 * third is taken down; both sides register, rotate and revoke; the link comes
 * back; every node ends with the same registry: the same agents, keys and
 * revocations, and the same reconciliation root fingerprint, read over
 * `/meshsig/sync/1.0.0` by a probe peer (docs/protocol.md §9).
 */
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMeshP2P, type MeshP2P } from '../../node/p2p/index.js'
import { decodeFingerprint } from '../../node/services/sync.js'
import { buildCli, type BuiltCli } from '../cli/build-cli.js'
import { tempDir } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'
import { emptyRegistry } from './flood-rogue.js'
import { canCreateNetns, createNetns, type Netns } from './partition-net.js'

const ROOT = canCreateNetns()
const API_PORT = 4888
const P2P_PORT = 4890
if (!ROOT) console.warn('partition.test.ts skipped: creating network namespaces needs root and iproute2')

/** The answer of `POST /messages/send` (the part the test reads). */
interface Sent {
  id: string
}

/** `GET /messages/:id`'s delivery (docs/api.md). */
interface Delivery {
  role: string
  state: string
  receipt: { msg: string; to: string; node: string } | null
}

interface Agent {
  did: string
  status: string
  keySeq: number
  publicKey: string
}

describe.skipIf(!ROOT)('a partition healed (needs root: network namespaces)', () => {
  let cli: BuiltCli | undefined
  let net: Netns | undefined
  let probe: MeshP2P | undefined
  const homes = [tempDir(), tempDir(), tempDir()]
  const procs: ReturnType<Netns['spawn']>[] = []

  /** Call node `i`'s API from inside its namespace (reachable during the cut). */
  const call = (i: number, method: string, path: string, body?: unknown): unknown => {
    const token = readFileSync(join(homes[i]!.dir, 'api-token'), 'utf8').trim()
    const args = ['curl', '-sS', '-m', '10', '-X', method, '-H', `authorization: Bearer ${token}`]
    if (body !== undefined) args.push('-H', 'content-type: application/json', '--data', JSON.stringify(body))
    const out = net!.run(i, [...args, '-w', '\n%{http_code}', `http://${net!.addrs[i]}:${API_PORT}${path}`])
    const at = out.lastIndexOf('\n')
    const status = Number(out.slice(at + 1))
    if (status >= 300) throw new Error(`${method} ${path} on node ${i}: ${status} ${out.slice(0, at)}`)
    return JSON.parse(out.slice(0, at))
  }
  const register = (i: number, name: string): string =>
    (call(i, 'POST', '/agents/register', { name }) as { identity: { did: string } }).identity.did
  const rotate = (i: number, did: string): unknown => call(i, 'POST', '/agents/rotate-key', { did })
  const revoke = (i: number, did: string): unknown => call(i, 'POST', '/agents/revoke', { did, reason: 'test' })
  /** The registry as node `i` shows it: every agent's DID, status, key and key seq, hashed. */
  const digest = (i: number): string => {
    const { agents } = call(i, 'GET', '/agents') as { agents: Agent[] }
    const rows = agents.map((a) => `${a.did} ${a.status} ${a.keySeq} ${a.publicKey}`).sort()
    return createHash('sha256').update(rows.join('\n')).digest('hex')
  }
  /** Where a direct message stands on node `i` (`GET /messages/:id`'s delivery), or undefined. */
  const deliveryOf = (i: number, id: string): Delivery | undefined => {
    try {
      return (call(i, 'GET', `/messages/${id}`) as { delivery: Delivery | null }).delivery ?? undefined
    } catch {
      return undefined // not stored there (yet): 404
    }
  }
  const knows = (i: number, did: string): boolean => {
    const { agents } = call(i, 'GET', '/agents') as { agents: Agent[] }
    return agents.some((a) => a.did === did)
  }

  beforeAll(async () => {
    cli = buildCli()
    net = createNetns(3)
    for (let i = 0; i < 3; i++) {
      const seeds = [0, 1].filter((j) => j < i).flatMap((j) => ['--peer', `ws://${net!.addrs[j]}:${API_PORT}`])
      const args = ['--host', net.addrs[i]!, '--port', String(API_PORT), '--p2p-port', String(P2P_PORT)]
      const cmd = [process.execPath, cli.main, 'start', ...args, '--name', `part-${i}`, ...seeds]
      const p = net.spawn(i, cmd, { MESHSIG_HOME: homes[i]!.dir, MESHSIG_RATE_LIMIT: '0' })
      procs.push(p)
      await waitFor(() => (call(i, 'GET', '/health') as { mesh: string }).mesh === 'ready', {
        timeout: 60_000,
        interval: 200,
        message: `node ${i} ready`,
      })
    }
  }, 180_000)

  afterAll(async () => {
    await probe?.stop().catch(() => undefined)
    for (const p of procs) p.kill('SIGTERM')
    await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(0) : p.once('exit', r)))))
    net?.cleanup()
    cli?.cleanup()
    for (const h of homes) h.cleanup()
  }, 60_000)

  /** Node `i`'s reconciliation root fingerprint, asked by a probe peer over the sync protocol. */
  const rootFingerprint = async (i: number): Promise<string> => {
    probe ??= await startProbe()
    const { peerId } = call(i, 'GET', '/health') as { peerId: string }
    await probe.dial(`/ip4/${net!.addrs[i]}/tcp/${P2P_PORT}/p2p/${peerId}`)
    const [frame] = await probe.sync(peerId, { kind: 'fp', prefixes: [''] })
    const fp = decodeFingerprint(frame ?? new Uint8Array())
    if (fp === undefined) throw new Error(`node ${i} answered no fingerprint`)
    return `${fp.count}:${Buffer.from(fp.fp).toString('hex')}`
  }

  it('converges on one registry after the link comes back', async () => {
    const before = [register(0, 'a1'), register(0, 'a2'), register(2, 'c1'), register(2, 'c2'), register(0, 's1')]
    await waitFor(() => [0, 1, 2].every((i) => before.every((d) => knows(i, d))), { timeout: 30_000, interval: 250 })

    net!.cut(2)
    const sideA = [register(0, 'a3'), register(1, 'b1'), register(1, 'b2')]
    rotate(0, before[0]!)
    revoke(0, before[1]!)
    const sideC = [register(2, 'c3'), register(2, 'c4')]
    rotate(2, before[2]!)
    rotate(2, before[2]!)
    revoke(2, before[3]!)
    // direct messages from side A to an agent of the cut-off node: they wait in node 0's outbox (docs/protocol.md §10)
    const send = (k: number): string =>
      (call(0, 'POST', '/messages/send', { fromDid: before[4], toDid: before[2], message: `across ${k}` }) as Sent).id
    const across = [1, 2, 3, 4, 5].map(send)
    await waitFor(() => sideA.every((d) => knows(0, d) && knows(1, d)), { timeout: 30_000, interval: 250 })
    await waitFor(() => digest(0) === digest(1), { timeout: 30_000, interval: 250, message: 'side A agrees' })
    expect(sideC.some((d) => knows(0, d))).toBe(false) // the cut holds
    expect(sideA.some((d) => knows(2, d))).toBe(false)
    expect(digest(2)).not.toBe(digest(0))
    // the far side's connections die (the ping watch, decision 0038): what crosses after the heal is sync's doing
    const peersOf = (i: number): string[] =>
      (call(i, 'GET', '/peers') as { peers: { peerId: string }[] }).peers.map((p) => p.peerId)
    const cIds = (call(2, 'GET', '/health') as { peerId: string }).peerId
    await waitFor(() => peersOf(2).length === 0 && !peersOf(0).includes(cIds), {
      timeout: 90_000,
      interval: 500,
      message: 'connections across the cut closed',
    })

    expect(across.map((id) => deliveryOf(0, id)?.state)).toEqual(Array(5).fill('pending'))
    net!.heal(2)
    await waitFor(() => new Set([0, 1, 2].map(digest)).size === 1, {
      timeout: 150_000,
      interval: 500,
      message: 'identical registries after the heal',
    })
    for (const d of [...sideA, ...sideC]) expect(knows(2, d) && knows(0, d)).toBe(true)
    const roots: string[] = []
    for (const i of [0, 1, 2]) roots.push(await rootFingerprint(i))
    expect(new Set(roots).size).toBe(1)
    // what crossed nothing during the cut is delivered after it, exactly once, each with node 2's receipt at node 0
    const host = (call(2, 'GET', '/health') as { did: string }).did
    await waitFor(() => across.every((id) => deliveryOf(0, id)?.state === 'delivered'), {
      timeout: 90_000,
      interval: 500,
      message: 'messages sent during the cut delivered',
    })
    for (const id of across) expect(deliveryOf(0, id)?.receipt).toMatchObject({ msg: id, to: before[2], node: host })
    for (const id of across) expect(deliveryOf(2, id)).toMatchObject({ role: 'host', state: 'delivered' })
    const atHost = (call(2, 'GET', `/messages?did=${before[2]}&limit=100`) as { messages: { id: string }[] }).messages
    expect(
      atHost
        .filter((m) => across.includes(m.id))
        .map((m) => m.id)
        .sort(),
    ).toEqual([...across].sort())
  }, 300_000)
})

function startProbe(): Promise<MeshP2P> {
  return createMeshP2P({
    seed: new Uint8Array(randomBytes(32)),
    transports: 'tcp+ws',
    listen: ['/ip4/127.0.0.1/tcp/0'],
    validate: () => 'ignore',
    onMessage: () => undefined,
    // an empty registry, one all-zero fingerprint per prefix asked: nothing for the nodes to pull (one 4-byte
    // frame for any request is a wrong answer to the node's own rounds with the probe, and it hangs up)
    syncProvider: emptyRegistry,
  }).then(async (p) => {
    await p.start()
    return p
  })
}
