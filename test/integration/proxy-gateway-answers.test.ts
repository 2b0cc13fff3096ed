// What a gateway answers cannot crash the node through the signing proxy (an attack review found a
// status line that did): node:http's client accepts status lines its server refuses to write (a
// status below 100, a reason phrase with a control character or DEL). The proxy passes back a status
// of 200-599 only (else 502 PEER_ERROR, audited as a gateway failure; a 101 held the caller) and the gateway's reason
// phrase only when it is writable (else the standard one).
import { connect, createServer, type Server } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { didFromPublicKey, generateKeyPair } from '../../node/core/index.js'
import { createSigningProxy, type ProxyAuditRecord, type SigningProxy } from '../../node/proxy/index.js'
import { buildCli, type BuiltCli } from '../cli/build-cli.js'
import { tempDir } from '../helpers/mesh.js'
import { freePort, getJson, startProcess, type NodeProcess } from '../helpers/node-process.js'
import { waitFor } from '../helpers/wait-for.js'

/** Status lines by request path; the gateway answers each with an empty body (or `body`). */
const LINES: Record<string, string> = {
  '/control-char': 'HTTP/1.1 200 O\x01K',
  '/del': 'HTTP/1.1 200 O\x7fK',
  '/below-100': 'HTTP/1.1 099 Weird',
  '/above-599': 'HTTP/1.1 600 Beyond',
  '/own-reason': 'HTTP/1.1 201 Made It',
  '/switching': 'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade',
  '/switching-bare': 'HTTP/1.1 101 Switching Protocols',
}

/** A gateway written over raw TCP, so it can send status lines node:http would refuse to write. */
async function rawGateway(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => {
    s.on('error', () => undefined)
    s.once('data', (d: Buffer) => {
      const path = /^[A-Z]+ (\S+)/.exec(d.toString('latin1'))?.[1] ?? ''
      const line = LINES[path] ?? 'HTTP/1.1 200 OK'
      s.end(`${line}\r\ncontent-length: 4\r\nx-gateway: yes\r\n\r\nbody`, 'latin1')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const addr = server.address()
  return { server, port: typeof addr === 'object' && addr ? addr.port : 0 }
}

/** The status line and body of one GET through the proxy, over raw TCP (the reason phrase as sent). */
function rawGet(port: number, path: string): Promise<{ statusLine: string; text: string }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () =>
      s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`),
    )
    let data = ''
    s.on('data', (d: Buffer) => (data += d.toString('latin1')))
    s.once('end', () => resolve({ statusLine: data.split('\r\n')[0] ?? '', text: data }))
    s.once('error', reject)
  })
}

/** True once something accepts TCP connections on 127.0.0.1:port (no request is sent). */
function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

let gateway: { server: Server; port: number }

beforeAll(async () => {
  gateway = await rawGateway()
})

afterAll(async () => {
  await new Promise((resolve) => gateway?.server.close(resolve))
})

describe('the proxy passes back only answers node:http can write', () => {
  let proxy: SigningProxy
  const records: ProxyAuditRecord[] = []
  const errors: unknown[] = []

  beforeAll(async () => {
    const key = generateKeyPair()
    const did = didFromPublicKey(key.publicKey)
    proxy = await createSigningProxy({
      listenPort: 0,
      targetHost: '127.0.0.1',
      targetPort: gateway.port,
      signerFor: () => ({ did, sign: (d) => key.sign(d) }),
      audit: (r) => records.push(r),
      onError: (err) => errors.push(err),
    })
  })

  afterAll(async () => {
    await proxy?.close()
  })

  it.each([
    ['a control character', '/control-char'],
    ['DEL', '/del'],
  ])('a reason phrase with %s is replaced by the standard one; status, headers and body pass', async (_, path) => {
    const { statusLine, text } = await rawGet(proxy.port, path)
    expect(statusLine).toBe('HTTP/1.1 200 OK')
    expect(text).toMatch(/x-gateway: yes/i)
    expect(text.endsWith('\r\n\r\nbody')).toBe(true)
    expect(records.at(-1)).toMatchObject({ path, status: 200, code: null })
  })

  it("a writable reason phrase is the gateway's own", async () => {
    expect((await rawGet(proxy.port, '/own-reason')).statusLine).toBe('HTTP/1.1 201 Made It')
  })

  it.each([
    ['below 100', '/below-100'],
    ['above 599', '/above-599'],
    ['101 (a switch of protocols the caller never asked the proxy for)', '/switching'],
    ['101 without an Upgrade header', '/switching-bare'],
  ])('a status %s is a 502 PEER_ERROR, audited as a gateway failure', async (_, path) => {
    const res = await fetch(proxy.url + path)
    expect(res.status).toBe(502)
    expect(res.headers.get('x-gateway')).toBeNull() // none of the broken answer's headers
    expect(res.headers.get('x-meshsig-proxy')).toBe('refused')
    expect(await res.json()).toMatchObject({ code: 'PEER_ERROR' })
    expect(records.at(-1)).toMatchObject({ path, status: 502, code: 'PEER_ERROR' })
  })

  it('none of it reached onError (nothing threw)', () => {
    expect(errors).toEqual([])
  })
})

describe('meshsig start --proxy: a gateway status line does not end the node', () => {
  let cli: BuiltCli
  let home: { dir: string; cleanup(): void }
  let proc: NodeProcess
  let proxyPort: number

  beforeAll(async () => {
    cli = buildCli()
    home = tempDir('meshsig-proxy-status-')
    const apiPort = await freePort()
    proxyPort = await freePort()
    const flags = ['--proxy', `${proxyPort}:${gateway.port}`, '--proxy-sign-as-node']
    proc = startProcess(cli, home.dir, apiPort, flags, { MESHSIG_RATE_LIMIT: '0' })
    await waitFor(() => getJson(`${proc.url}/health`), { timeout: 30_000, interval: 100 })
    // the API answers before the node and its proxy are up (decision 0021)
    await waitFor(() => accepting(proxyPort), { timeout: 30_000, interval: 100 })
  }, 120_000)

  afterAll(async () => {
    proc?.child.kill('SIGKILL')
    await proc?.exited()
    cli?.cleanup()
    home?.cleanup()
  })

  it.each(['/control-char', '/del', '/below-100'])(
    '%s: the caller is answered and the node keeps running',
    async (path) => {
      const res = await fetch(`http://127.0.0.1:${proxyPort}${path}`)
      expect(res.status).toBe(path === '/below-100' ? 502 : 200)
      await res.arrayBuffer()
      await expect(getJson(`${proc.url}/health`)).resolves.toBeTruthy()
      expect(proc.child.exitCode, proc.output().slice(-400)).toBeNull()
    },
  )
})
