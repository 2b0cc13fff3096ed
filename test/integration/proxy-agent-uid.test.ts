// An agent listener serves only the uid it was started for (`--proxy-agent <did>=<port>:<uid>`): the
// iptables rules outlive the node, and attack review 93 (F1) showed that after a restart giving alice's
// old port to bob, alice's uid was signed as bob. A redirected connection whose socket (the kernel's
// `uid` column) belongs to another uid is refused, reported once per listener and uid in the audit log
// (kind `api.refused`, action `proxy.sign`), and never forwarded. The kernel side: test/e2e/proxy-stale-rules.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { proxyFlagsOf } from '../../cli/commands/start-proxy.js'
import type { MeshNode } from '../../node/mesh-node.js'
import {
  WRONG_UIDS_REPORTED_PER_LISTENER,
  movedListenerWarnings,
  startNodeProxy,
  type NodeProxy,
  type ProxyState,
} from '../../node/proxy/index.js'
import { startNode, stopAll } from '../helpers/mesh.js'

let node: MeshNode
let gateway: Server
let gatewayPort = 0
let received = 0
const proxies: NodeProxy[] = []

beforeAll(async () => {
  node = await startNode({ init: { minCheckpointIntervalMs: 0 } })
  gateway = createServer((req, res) => {
    received++
    req.resume()
    req.on('end', () =>
      res.end(JSON.stringify({ keyid: /keyid="([^"]+)"/.exec(String(req.headers['signature-input']))?.[1] })),
    )
  })
  await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r))
  gatewayPort = (gateway.address() as AddressInfo).port
})

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()))
  await new Promise((r) => gateway?.close(r))
  await stopAll([node])
})

const refusals = (): { subject: string | null; code: string | null; data: Record<string, unknown> }[] =>
  node.audit.verifiable().entries.filter((e) => e.kind === 'api.refused' && e.data.action === 'proxy.sign')

/** One request on a connection of its own (each new connection is checked once). */
async function call(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/pay`, {
    method: 'POST',
    body: '{}',
    headers: { connection: 'close' },
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

describe("an agent listener serves only its agent's uid", () => {
  it('refuses a connection of another uid (403, not forwarded), audited once per uid; its own uid is signed', async () => {
    const alice = (await node.registerAgent('alice')).record.did
    let callerUid = 61931 // what the kernel's table says owns the caller's socket
    const proxy = await startNodeProxy(
      node,
      { listenPort: 0, targetHost: '127.0.0.1', targetPort: gatewayPort },
      { agents: [{ did: alice, port: 0, uid: 61932 }], checkRedirect: async () => ({ uid: callerUid }) },
    )
    proxies.push(proxy)
    const port = proxy.agentPorts.get(alice)!
    const before = received
    for (let i = 0; i < 3; i++) {
      const refused = await call(port)
      expect(refused).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } })
      expect(String(refused.body.error)).toMatch(
        new RegExp(`made by uid 61931, but the listener on port ${port} serves uid 61932 only .*deploy-proxy\\.sh`),
      )
    }
    expect(received).toBe(before)
    expect(refusals()).toEqual([
      expect.objectContaining({
        subject: alice,
        code: 'FORBIDDEN',
        data: expect.objectContaining({ client: 'uid:61931' }),
      }),
    ])
    callerUid = 61933
    expect((await call(port)).status).toBe(403)
    expect(refusals().map((r) => r.data.client)).toEqual(['uid:61931', 'uid:61933'])
    callerUid = 61932
    expect(await call(port)).toEqual({ status: 200, body: { keyid: alice } })
    expect(received).toBe(before + 1)
  })

  it(`reports at most ${WRONG_UIDS_REPORTED_PER_LISTENER} uids per listener: the log does not grow with them`, async () => {
    const bob = (await node.registerAgent('bob')).record.did
    let callerUid = 70000
    const proxy = await startNodeProxy(
      node,
      { listenPort: 0, targetHost: '127.0.0.1', targetPort: gatewayPort },
      { agents: [{ did: bob, port: 0, uid: 1002 }], checkRedirect: async () => ({ uid: callerUid++ }) },
    )
    proxies.push(proxy)
    const before = refusals().length
    for (let i = 0; i < WRONG_UIDS_REPORTED_PER_LISTENER + 8; i++) {
      expect((await call(proxy.agentPorts.get(bob)!)).status).toBe(403)
    }
    expect(refusals().length - before).toBe(WRONG_UIDS_REPORTED_PER_LISTENER)
  })
})

describe('movedListenerWarnings: ports that changed agent or uid since the last start', () => {
  const state = (agents: ProxyState['agents']): ProxyState => ({
    v: 2,
    listenPort: 4789,
    gateway: { host: '127.0.0.1', port: 3001 },
    authority: '127.0.0.1:3001',
    signAsNode: false,
    agents,
  })
  const alice = { did: 'did:msig:' + 'A'.repeat(44), name: 'alice', port: 4790, uid: 61931 }
  const bob = { did: 'did:msig:' + 'B'.repeat(44), name: 'bob', port: 4791, uid: 61932 }

  it('names a port given to another agent or uid, and nothing when they stay', () => {
    expect(movedListenerWarnings([alice, bob], state([alice, bob]))).toEqual([])
    expect(movedListenerWarnings([], state([alice]))).toEqual([])
    const moved = movedListenerWarnings([alice, bob], state([{ ...bob, port: 4790 }]))
    expect(moved).toHaveLength(1)
    expect(moved[0]).toMatch(
      /127\.0\.0\.1:4790 signed as alice .* \(uid 61931\) at the last start; it now serves uid 61932/,
    )
    expect(moved[0]).toContain(`deploy-proxy.sh --agent ${bob.did} 3001`)
    expect(movedListenerWarnings([alice], state([{ ...alice, uid: 61999 }]))).toHaveLength(1)
    // proxy.json v1 named no uid: the rules were made without one the node knows; one line for all such ports
    const v1 = [
      { did: alice.did, name: 'alice', port: 4790 },
      { did: bob.did, name: 'bob', port: 4791 },
    ]
    const upgraded = movedListenerWarnings(v1, state([alice, bob]))
    expect(upgraded).toHaveLength(1)
    expect(upgraded[0]).toMatch(
      /older node.*4790 \(alice: uid 61931\), 4791 \(bob: uid 61932\).*deploy-proxy\.sh --agent/,
    )
    // a port that changed agent since the v1 file is still named on its own
    expect(movedListenerWarnings(v1, state([{ ...bob, port: 4790 }]))[0]).toMatch(/4790 signed as alice/)
  })
})

describe("meshsig start --proxy-agent with the node's own uid", () => {
  it('is refused (that "agent" can read every custodied key; attack review 93, F8)', async () => {
    const did = 'did:msig:' + 'A'.repeat(44)
    const getuid = vi.spyOn(process, 'getuid').mockReturnValue(61941) // the node runs as uid 61941
    try {
      const flags = (uid: number) => proxyFlagsOf({ proxy: '4889:3001', proxyAgent: `${did}=4890:${uid}` })
      await expect(flags(61941)).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        message: expect.stringMatching(/uid 61941 is this node's own user: it can read every custodied key/),
      })
      expect((await flags(61942))?.agents).toEqual([{ did, port: 4890, uid: 61942 }])
    } finally {
      getuid.mockRestore()
    }
  })
})
