// The signing proxy in process, between a client and a tiny gateway: what the gateway receives
// verifies with the SDK verifier, for the gateway's own authority, under the DID of the listener's
// agent (or the node's, when enabled); what cannot be signed or attributed never reaches it.
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  MeshsigError,
  NonceCache,
  contentDigest,
  verifyRequestSignature,
  type HttpRequestLike,
  type HttpSignatureVerdict,
} from '../../node/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { createSigningProxy, startNodeProxy, type NodeProxy, type SigningProxy } from '../../node/proxy/index.js'
import { startNode, stopAll } from '../helpers/mesh.js'
import { freePort } from '../helpers/node-process.js'
import { waitFor } from '../helpers/wait-for.js'

interface Received {
  readonly request: HttpRequestLike
  readonly remoteAddress: string
  readonly verdict: HttpSignatureVerdict
  /** The newest proxy.request audit entry when the request reached the gateway. */
  readonly auditedOnArrival: ReturnType<typeof proxyEntries>[number] | undefined
}

interface Gateway {
  readonly server: Server
  readonly port: number
  readonly received: Received[]
}

/** A gateway that verifies every request for its own authority with the SDK verifier (keys from the node). */
async function startGateway(node: MeshNode): Promise<Gateway> {
  const received: Received[] = []
  const nonces = new NonceCache()
  let ownAuthority = ''
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    const auditedOnArrival = proxyEntries().at(-1)
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const request = {
        method: req.method ?? '',
        authority: ownAuthority,
        path: req.url ?? '/',
        headers: req.headers,
        body: new Uint8Array(Buffer.concat(chunks)),
      }
      void verifyRequestSignature(request, {
        now: Date.now(),
        resolveKey: (keyid) => node.signerKey(keyid).publicKey ?? undefined,
        seenNonce: nonces.seen,
      }).then((verdict) => {
        received.push({ request, remoteAddress: req.socket.remoteAddress ?? '', verdict, auditedOnArrival })
        const status = verdict.ok ? 200 : 401
        res.writeHead(status, { 'content-type': 'application/json', 'x-gateway': 'yes' })
        res.end(
          JSON.stringify(verdict.ok ? { ok: true, keyid: verdict.signature.keyid } : { code: verdict.error.code }),
        )
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  ownAuthority = `127.0.0.1:${port}`
  return { server, port, received }
}

async function call(
  proxy: SigningProxy,
  path: string,
  init: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(proxy.url + path, init)
  const text = await res.text()
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: res.headers }
}

let node: MeshNode
let gateway: Gateway
let proxy: SigningProxy
const extra: SigningProxy[] = []

beforeAll(async () => {
  node = await startNode({ init: { minCheckpointIntervalMs: 0 } }) // proxyEntries() reads the whole log through the export
  gateway = await startGateway(node)
  proxy = await startNodeProxy(node, target(), { signAsNode: true })
})

/** Revoke as the operator (the input spells the operator `authority`, formerly `operator: true`). */
async function revokeAsOperator(did: string): Promise<void> {
  const operator = { operator: true, authority: { kind: 'operator', via: 'token' } }
  await node.revokeAgent({ did, reason: 'test', ...operator } as Parameters<MeshNode['revokeAgent']>[0])
}

function target(): { listenPort: number; targetHost: string; targetPort: number } {
  return { listenPort: 0, targetHost: '127.0.0.1', targetPort: gateway.port }
}

/** A request with headers fetch would not send as given (Host), straight over node:http. */
function rawCall(
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path, headers }, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.once('error', reject)
    req.end('{"pay":1}')
  })
}

afterAll(async () => {
  await Promise.all([proxy, ...extra].map((p) => p?.close()))
  await new Promise((resolve) => gateway?.server.close(resolve))
  await stopAll([node])
})

function proxyEntries(): {
  index: number
  subject: string | null
  code: string | null
  data: Record<string, unknown>
}[] {
  return node.audit.verifiable().entries.filter((e) => e.kind === 'proxy.request')
}

describe('signing proxy → gateway', () => {
  it('the gateway receives the request signed by the node DID, and the answer comes back', async () => {
    const before = gateway.received.length
    const body = JSON.stringify({ task: 'summarise', text: 'é'.repeat(1000) })
    const res = await call(proxy, '/v1/tasks?priority=high&token=s3cret', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', signature: 'fake=:AAAA:' },
    })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ ok: true, keyid: node.did })
    expect(res.headers.get('x-gateway')).toBe('yes')
    const got = gateway.received[before]!
    expect(got.verdict.ok).toBe(true)
    expect(got.request.path).toBe('/v1/tasks?priority=high&token=s3cret')
    expect(got.request.headers['content-digest']).toBe(contentDigest(body))
    expect(String(got.request.headers['signature-input'])).toMatch(
      /^meshsig=\("@method" "@authority" "@path" "@query" "content-digest" "content-type"\);created=\d+;expires=\d+;nonce="[A-Za-z0-9+/]{22}==";alg="ed25519";keyid="did:msig:[1-9A-Za-z]+";tag="meshsig"$/,
    )
    expect(got.remoteAddress).toBe('127.0.0.2') // the proxy's own source address (deploy-proxy.sh exempts it)
  })

  it('records two proxy.request entries per forwarded request, the request and its outcome: no query, headers or body', async () => {
    await call(proxy, '/audit-me?apikey=hunter2', { method: 'DELETE' })
    const [request, outcome] = proxyEntries().slice(-2)
    const signed = { method: 'DELETE', authority: proxy.authority, path: '/audit-me' }
    expect(request).toMatchObject({ subject: node.did, code: null, data: { ...signed, status: null } })
    expect(outcome).toMatchObject({ subject: node.did, code: null })
    expect(outcome!.data).toEqual({ ...signed, status: 200, requestEntry: request!.index })
    expect(JSON.stringify(proxyEntries())).not.toMatch(/hunter2|s3cret|signature|summarise/)
  })

  it('the request is in the audit log before the gateway receives it', async () => {
    const before = gateway.received.length
    await call(proxy, '/audited-first', { method: 'POST', body: 'transfer 100' })
    const got = gateway.received[before]!
    expect(got.auditedOnArrival).toMatchObject({ subject: node.did, data: { path: '/audited-first', status: null } })
  })

  it('a request the audit log refuses is not forwarded (500)', async () => {
    const refusing = await createSigningProxy({
      listenPort: 0,
      targetHost: '127.0.0.1',
      targetPort: gateway.port,
      signerFor: () => node.proxySigner(),
      audit: () => {
        throw new Error('disk full')
      },
    })
    extra.push(refusing)
    const before = gateway.received.length
    const res = await call(refusing, '/not-recorded', { method: 'POST', body: 'x' })
    expect(res).toMatchObject({ status: 500, body: { code: 'INTERNAL' } })
    expect(String(res.body.error)).toMatch(/audit log; not forwarded/)
    expect(gateway.received.length).toBe(before)
  })

  it('a replay of a forwarded request straight to the gateway is refused (REPLAY)', async () => {
    await call(proxy, '/once', { method: 'POST', body: 'x' })
    const first = gateway.received.at(-1)!
    expect(first.verdict.ok).toBe(true)
    const status = await new Promise<number>((resolve, reject) => {
      const headers = { ...first.request.headers } as IncomingHttpHeaders
      const req = httpRequest(
        {
          port: gateway.port,
          host: '127.0.0.1',
          method: 'POST',
          path: '/once',
          headers: headers as Record<string, string>,
        },
        (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        },
      )
      req.once('error', reject)
      req.end('x')
    })
    expect(status).toBe(401)
    expect(gateway.received.at(-1)!.verdict).toMatchObject({ ok: false, error: { code: 'REPLAY' } })
  })

  it('fails closed: no signing key → 503, nothing reaches the gateway, nothing is audited as forwarded', async () => {
    const keyless = await createSigningProxy({
      listenPort: 0,
      targetHost: '127.0.0.1',
      targetPort: gateway.port,
      signerFor: () => undefined,
    })
    extra.push(keyless)
    const before = gateway.received.length
    const audited = proxyEntries().length
    const res = await call(keyless, '/v1/tasks', { method: 'POST', body: 'unsigned?' })
    expect(res.status).toBe(503)
    expect(res.body).toMatchObject({ code: 'NO_IDENTITY' })
    expect(String(res.body.error)).toMatch(/no signing key.*not forwarded/)
    expect(gateway.received.length).toBe(before)
    expect(proxyEntries().length).toBe(audited)
  })

  it("the caller's Host chooses nothing in what is signed: @authority is the gateway's, and so is the Host it gets", async () => {
    const before = gateway.received.length
    const listener = `localhost:${proxy.port}` // the listener under another of its names
    const res = await rawCall(proxy.port, '/pay', { host: listener, 'content-type': 'application/json' })
    expect(res.status).toBe(200)
    const got = gateway.received[before]!
    expect(got.verdict.ok).toBe(true) // verified for the gateway's own authority
    expect(proxy.authority).toBe(`127.0.0.1:${gateway.port}`)
    expect(got.request.headers.host).toBe(proxy.authority)
    const asSent = await verifyRequestSignature(
      { ...got.request, authority: listener },
      { now: Date.now(), resolveKey: (keyid) => node.signerKey(keyid).publicKey ?? undefined },
    )
    expect(asSent).toMatchObject({ ok: false, error: { code: 'SIGNATURE_INVALID' } })
    expect(proxyEntries().at(-1)?.data).toMatchObject({ authority: proxy.authority, path: '/pay' })
  })

  it('a Host naming neither the listener nor the gateway is refused 403, never signed, forwarded or audited (decision 0082)', async () => {
    const before = gateway.received.length
    const audited = proxyEntries().length
    const res = await rawCall(proxy.port, '/pay', { host: 'bank.example:443', 'content-type': 'application/json' })
    expect(res.status).toBe(403)
    expect(JSON.parse(res.body)).toMatchObject({ code: 'FORBIDDEN', error: expect.stringMatching(/DNS rebinding/) })
    expect(gateway.received.length).toBe(before)
    expect(proxyEntries().length).toBe(audited)
  })

  it('forwards the origin form that was signed: an absolute-form target naming the gateway loses its scheme and authority', async () => {
    const before = gateway.received.length
    const res = await rawCall(proxy.port, `http://${proxy.authority}/v1/run?x=1`, { host: proxy.authority })
    expect(res.status).toBe(200)
    const got = gateway.received[before]!
    expect(got.request.path).toBe('/v1/run?x=1')
    expect(got.verdict.ok).toBe(true)
  })

  it.each([
    [
      'an absolute-form target naming another authority',
      () => 'http://bank.example/transfer?to=mallory',
      'INVALID_INPUT',
    ],
    [
      "an absolute-form target with userinfo before the gateway's authority",
      () => `http://u@${proxy.authority}/x`,
      'INVALID_INPUT',
    ],
    ['a fragment, with what looks like a query after it', () => '/pay#?amount=1000000', 'MALFORMED'],
  ])('%s is refused (400), never signed or forwarded', async (_, target, code) => {
    const before = gateway.received.length
    const audited = proxyEntries().length
    const res = await rawCall(proxy.port, target(), { host: '127.0.0.1' })
    expect(res.status).toBe(400)
    expect(JSON.parse(res.body)).toMatchObject({ code })
    expect(gateway.received.length).toBe(before)
    expect(proxyEntries().length).toBe(audited)
  })

  it('by default an unattributed caller is refused (403), never signed as the node or forwarded', async () => {
    const strict = await startNodeProxy(node, target())
    extra.push(strict)
    const before = gateway.received.length
    const audited = proxyEntries().length
    const res = await call(strict, '/v1/tasks', { method: 'POST', body: 'who am I?' })
    expect(res).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } })
    expect(String(res.body.error)).toMatch(/no agent is attributed to this caller.*not forwarded/)
    expect(res.headers.get('x-meshsig-proxy')).toBe('refused')
    expect(gateway.received.length).toBe(before)
    expect(proxyEntries().length).toBe(audited)
  })

  it('each agent listener signs as its own custodied agent; X-Meshsig-Agent is refused; revoked → 403', async () => {
    const alice = (await node.registerAgent('alice')).record.did
    const bob = (await node.registerAgent('bob')).record.did
    const agents = [
      { did: alice, port: 0, uid: 1001 },
      { did: bob, port: 0, uid: 1002 },
    ]
    // each connection comes through the redirect from its own listener's uid
    const uidAt = (port: number): number => (port === byAgent.agentPorts.get(alice) ? 1001 : 1002)
    const byAgent: NodeProxy = await startNodeProxy(node, target(), {
      agents,
      checkRedirect: async (ends) => ({ uid: uidAt(ends.localPort) }),
    })
    extra.push(byAgent)
    expect(byAgent.agents.map((a) => a.name)).toEqual(['alice', 'bob'])
    const url = (did: string): string => `http://127.0.0.1:${byAgent.agentPorts.get(did)}/x`
    expect(await (await fetch(url(alice))).json()).toEqual({ ok: true, keyid: alice })
    expect(await (await fetch(url(bob))).json()).toEqual({ ok: true, keyid: bob })
    expect(proxyEntries().at(-1)?.subject).toBe(bob)
    const before = gateway.received.length
    const named = await fetch(url(alice), { headers: { 'x-meshsig-agent': alice } })
    expect(named.status).toBe(403)
    expect((await call(byAgent, '/x')).status).toBe(403) // its default listener: no signAsNode
    await revokeAsOperator(bob)
    const revoked = await fetch(url(bob))
    expect(revoked.status).toBe(403)
    expect(await revoked.json()).toMatchObject({ code: 'REVOKED' })
    expect(gateway.received.length).toBe(before)
  })

  it('an agent listener refuses a direct connection (the kernel says it was not redirected)', async () => {
    const carol = (await node.registerAgent('carol')).record.did
    const guarded = await startNodeProxy(node, target(), { agents: [{ did: carol, port: 0, uid: 1003 }] })
    extra.push(guarded)
    const before = gateway.received.length
    const res = await fetch(`http://127.0.0.1:${guarded.agentPorts.get(carol)}/x`)
    expect(res.status).toBe(403)
    expect(((await res.json()) as { error: string }).error).toMatch(/did not come through the per-uid redirect/)
    expect(gateway.received.length).toBe(before)
  })

  it('an agent listener whose redirect check is refused (too many waiting) answers 429 RATE_LIMITED, not forwarded', async () => {
    const dave = (await node.registerAgent('dave')).record.did
    const busy = await startNodeProxy(node, target(), {
      agents: [{ did: dave, port: 0, uid: 1004 }],
      checkRedirect: () => Promise.reject(new MeshsigError('RATE_LIMITED', '64 connections are already waiting')),
    })
    extra.push(busy)
    const before = gateway.received.length
    const res = await fetch(`http://127.0.0.1:${busy.agentPorts.get(dave)}/x`)
    expect(res.status).toBe(429)
    const body = (await res.json()) as { code: string; error: string }
    expect(body).toMatchObject({ code: 'RATE_LIMITED' })
    expect(body.error).toMatch(/already waiting; not forwarded/)
    expect(gateway.received.length).toBe(before)
  })

  it('an agent this node does not custody cannot get a listener', async () => {
    const stranger = { did: 'did:msig:' + '1'.repeat(44), port: 0, uid: 1005 }
    await expect(startNodeProxy(node, target(), { agents: [stranger] })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    })
  })

  it('a body over the limit → 413 and is not forwarded', async () => {
    const small = await createSigningProxy({
      listenPort: 0,
      targetHost: '127.0.0.1',
      targetPort: gateway.port,
      signerFor: () => node.proxySigner(),
      maxBodyBytes: 1024,
    })
    extra.push(small)
    const before = gateway.received.length
    expect((await call(small, '/big', { method: 'POST', body: 'y'.repeat(1025) })).status).toBe(413)
    const chunked = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 4; i++) c.enqueue(new Uint8Array(400).fill(65))
        c.close()
      },
    })
    const res = await fetch(small.url + '/big', { method: 'POST', body: chunked, duplex: 'half' } as RequestInit)
    expect(res.status).toBe(413)
    expect((await call(small, '/ok', { method: 'POST', body: 'y'.repeat(1024) })).status).toBe(200)
    expect(gateway.received.length).toBe(before + 1)
  })

  it('a listener holds at most maxBufferedRequests bodies at once: past it 429 RATE_LIMITED, a place frees once forwarded', async () => {
    let admitted = 0
    const bounded = await createSigningProxy({
      listenPort: 0,
      targetHost: '127.0.0.1',
      targetPort: gateway.port,
      signerFor: () => {
        admitted++ // asked right before the body is read
        return node.proxySigner()
      },
      maxBufferedRequests: 2,
    })
    extra.push(bounded)
    /** A request whose body never finishes arriving: held while its body is read. */
    const stall = (): Socket => {
      const s = connect(bounded.port, '127.0.0.1')
      s.on('error', () => undefined)
      s.write('POST /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nhalf')
      return s
    }
    const first = stall()
    const second = stall()
    await waitFor(() => admitted === 2)
    const before = gateway.received.length
    const refused = await call(bounded, '/third', { method: 'POST', body: 'x' })
    expect(refused).toMatchObject({ status: 429, body: { code: 'RATE_LIMITED' } })
    expect(String(refused.body.error)).toMatch(/already holds 2 requests.*not forwarded/)
    first.end('x'.repeat(96)) // its body completes: forwarded, its place freed
    await waitFor(() => gateway.received.length === before + 1)
    expect((await call(bounded, '/fourth', { method: 'POST', body: 'x' })).status).toBe(200)
    const third = stall()
    await waitFor(() => admitted === 5)
    expect((await call(bounded, '/fifth', { method: 'POST', body: 'x' })).status).toBe(429)
    second.destroy() // a caller that goes away frees its place too
    await waitFor(async () => (await call(bounded, '/sixth', { method: 'POST', body: 'x' })).status === 200)
    third.destroy()
  })

  it('an unreachable gateway → 502, audited with code UNREACHABLE', async () => {
    const dead = await startNodeProxy(
      node,
      { listenPort: 0, targetHost: '127.0.0.1', targetPort: 1 },
      { signAsNode: true },
    )
    extra.push(dead)
    const res = await call(dead, '/nowhere')
    expect(res).toMatchObject({ status: 502, body: { code: 'UNREACHABLE' } })
    expect(proxyEntries().at(-1)).toMatchObject({ code: 'UNREACHABLE', data: { path: '/nowhere', status: 502 } })
  })

  it('a proxy forwarding to itself (a redirect loop) stops at the second hop: 508', async () => {
    const port = await freePort()
    const loop = await startNodeProxy(
      node,
      { listenPort: port, targetHost: '127.0.0.1', targetPort: port },
      { signAsNode: true },
    )
    extra.push(loop)
    const res = await call(loop, '/loop')
    expect(res).toMatchObject({ status: 508, body: { code: 'PROXY_LOOP' } })
  })
})
