// The proxy's configuration: the --proxy and --proxy-agent flags, the signer policy (the listener a
// caller's uid was redirected to, never the body or a header; fail closed), and the kernel socket-table
// check that an agent listener's connection came through the redirect.
import { describe, expect, it } from 'vitest'
import { didFromPublicKey, generateKeyPair } from '../../node/core/index.js'
import {
  forwardedTarget,
  gatewayAuthority,
  normalizeAddress,
  parseProcTcp,
  parseProxyAgent,
  parseProxyAgents,
  parseProxySpec,
  procAddress,
  procRedirectCheck,
  redirectedIn,
  rowsWithPort,
  signerPolicy,
  type ProxyCaller,
  type ProxySigner,
  type RedirectVerdict,
} from '../../node/proxy/index.js'
import { codeOf } from '../helpers/error-code.js'

function signer(): ProxySigner {
  const key = generateKeyPair()
  return { did: didFromPublicKey(key.publicKey), sign: (d) => key.sign(d) }
}

const caller = (over: Partial<ProxyCaller> = {}): ProxyCaller => ({
  remoteAddress: '127.0.0.1',
  remotePort: 50000,
  listener: undefined,
  agent: undefined,
  ...over,
})

describe('--proxy <listenPort>:<targetPort>', () => {
  it('parses ports and an optional target host', () => {
    expect(parseProxySpec('4889:3001')).toEqual({ listenPort: 4889, targetHost: '127.0.0.1', targetPort: 3001 })
    expect(parseProxySpec('4889:gateway.internal:8080')).toEqual({
      listenPort: 4889,
      targetHost: 'gateway.internal',
      targetPort: 8080,
    })
  })

  it.each(['4889', '0:3001', '4889:70000', 'a:3001', '4889:3001:', '4889:h;x:1', '3001:3001', ' 1:2'])(
    'refuses %j with INVALID_INPUT',
    (text) => {
      expect(codeOf(() => parseProxySpec(text))).toBe('INVALID_INPUT')
    },
  )
})

describe('--proxy-agent <did>=<port>:<uid>', () => {
  const did = signer().did
  const spec = parseProxySpec('4889:3001')

  it('parses a did:msig (or its did:key), a port and the uid it serves', () => {
    expect(parseProxyAgent(`${did}=4890:1001`)).toEqual({ did, port: 4890, uid: 1001 })
  })

  it.each([
    'alice=4890:1001',
    '=4890:1001',
    'did:msig:abc=4890:1001',
    'x',
    `DID=0:1001`,
    `DID=4890;id:1001`,
    `DID`,
    `DID=4890`, // no uid: a listener serves one uid (attack review 93)
    `DID=4890:0`, // root
    `DID=4890:4294967295`,
    `DID=4890:-1`,
    `DID=4890:1001:2`,
    `DID=4890:1e3`,
  ])('refuses %j with INVALID_INPUT', (text) => {
    expect(codeOf(() => parseProxyAgent(text.replace('DID', did)))).toBe('INVALID_INPUT')
  })

  it('refuses a DID twice, a port twice, a uid twice, and the proxy or gateway port', () => {
    const other = signer().did
    expect(parseProxyAgents([`${did}=4890:1001`, `${other}=4891:1002`], spec)).toHaveLength(2)
    expect(codeOf(() => parseProxyAgents([`${did}=4890:1001`, `${did}=4891:1002`], spec))).toBe('INVALID_INPUT')
    expect(codeOf(() => parseProxyAgents([`${did}=4890:1001`, `${other}=4890:1002`], spec))).toBe('INVALID_INPUT')
    expect(codeOf(() => parseProxyAgents([`${did}=4890:1001`, `${other}=4891:1001`], spec))).toBe('INVALID_INPUT')
    expect(codeOf(() => parseProxyAgents([`${did}=4889:1001`], spec))).toBe('INVALID_INPUT')
    expect(codeOf(() => parseProxyAgents([`${did}=3001:1001`], spec))).toBe('INVALID_INPUT')
  })
})

describe('forwardedTarget: the target forwarded is the one @path and @query cover', () => {
  it.each([
    ['/v1/run?x=1', '/v1/run?x=1'],
    ['/v1/run?', '/v1/run'], // an empty query is "?" to @query, as no query
    ['', '/'],
    ['*', '*'],
    ['http://127.0.0.1:3001', '/'],
    ['HTTP://127.0.0.1:3001/a?b', '/a?b'],
  ])('%j → %j', (target, forwarded) => {
    expect(forwardedTarget(target, '127.0.0.1:3001')).toBe(forwarded)
  })

  it('an absolute-form target names the gateway as WHATWG URL writes it (the default port 80 left out)', () => {
    expect(forwardedTarget('http://127.0.0.1:80/x', '127.0.0.1')).toBe('/x')
    expect(codeOf(() => forwardedTarget('http://127.0.0.1:3002/x', '127.0.0.1:3001'))).toBe('INVALID_INPUT')
    expect(codeOf(() => forwardedTarget('https://127.0.0.1:3001/x', '127.0.0.1:3001'))).toBe('INVALID_INPUT')
    expect(codeOf(() => forwardedTarget('http://a:b@127.0.0.1:3001/x', '127.0.0.1:3001'))).toBe('INVALID_INPUT')
    expect(codeOf(() => forwardedTarget('/x#y', '127.0.0.1:3001'))).toBe('MALFORMED')
    expect(codeOf(() => forwardedTarget('http://127.0.0.1:3001/x#', '127.0.0.1:3001'))).toBe('MALFORMED')
  })
})

describe('gatewayAuthority', () => {
  it('is host:port, lowercased, without the default port 80', () => {
    expect(gatewayAuthority('127.0.0.1', 3001)).toBe('127.0.0.1:3001')
    expect(gatewayAuthority('Gateway.Internal', 80)).toBe('gateway.internal')
  })
})

describe('signerPolicy', () => {
  const node = signer()
  const agent = signer()
  const custodied = (did: string): ProxySigner | undefined => (did === agent.did ? agent : undefined)

  it('refuses a caller nothing attributes (403) unless signing as the node is enabled; no node key → 503', () => {
    expect(codeOf(() => signerPolicy({ nodeSigner: () => node, custodied })(caller()))).toBe('FORBIDDEN')
    expect(signerPolicy({ nodeSigner: () => node, custodied, signAsNode: true })(caller())).toBe(node)
    expect(signerPolicy({ nodeSigner: () => undefined, signAsNode: true })(caller())).toBeUndefined()
  })

  it('an agent listener signs as its agent, whatever else is configured; an unknown one → undefined', () => {
    const policy = signerPolicy({
      nodeSigner: () => node,
      custodied,
      agentSigner: (label) => (label === 'a' ? agent : undefined),
      signAsNode: true,
    })
    expect(policy(caller({ listener: 'a' }))).toBe(agent)
    expect(policy(caller({ listener: 'b' }))).toBeUndefined()
  })

  it("X-Meshsig-Agent is refused on every listener, even naming the listener's own agent", () => {
    const policy = signerPolicy({ nodeSigner: () => node, custodied, agentSigner: () => agent, signAsNode: true })
    expect(codeOf(() => policy(caller({ agent: agent.did })))).toBe('FORBIDDEN')
    expect(codeOf(() => policy(caller({ listener: 'a', agent: agent.did })))).toBe('FORBIDDEN')
  })

  it('maps source addresses to custodied agents (IPv6-mapped too); an unmapped caller is refused', () => {
    const policy = signerPolicy({
      nodeSigner: () => node,
      custodied,
      bySource: new Map([
        ['10.0.0.5', agent.did],
        ['10.0.0.6', 'did:msig:notcustodied'],
      ]),
    })
    expect(policy(caller({ remoteAddress: '::ffff:10.0.0.5' }))).toBe(agent)
    expect(policy(caller({ remoteAddress: '10.0.0.6' }))).toBeUndefined()
    expect(codeOf(() => policy(caller({ remoteAddress: '10.0.0.7' })))).toBe('FORBIDDEN')
    expect(normalizeAddress('::1')).toBe('::1')
  })
})

// /proc/net/tcp rows (little-endian host): 127.0.0.1 is 0100007F; ports are big-endian hex.
const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
const row = (local: string, remote: string, st = '01', uid = 1001): string =>
  `   0: ${local} ${remote} ${st} 00000000:00000000 00:00000000 00000000  ${uid}        0 1 1 0 20 4 30 10 -1\n`
const hex = (port: number): string => port.toString(16).toUpperCase().padStart(4, '0')
const LO = '0100007F'
const ends = { remoteAddress: '127.0.0.1', remotePort: 40000, localPort: 4890 }

describe('the redirect check (kernel socket table)', () => {
  it('reads IPv4, IPv4-mapped and IPv6 addresses of /proc/net/tcp{,6}', () => {
    expect(procAddress('0100007F', true)).toBe('127.0.0.1')
    expect(procAddress('7F000001', false)).toBe('127.0.0.1')
    expect(procAddress('0000000000000000FFFF00000100007F', true)).toBe('127.0.0.1')
    expect(procAddress('00000000000000000000000001000000', true)).toBe('::1')
    expect(parseProcTcp(HEADER + row(`${LO}:${hex(40000)}`, `${LO}:${hex(3001)}`) + 'junk\n', true)).toEqual([
      {
        localAddress: '127.0.0.1',
        localPort: 40000,
        remoteAddress: '127.0.0.1',
        remotePort: 3001,
        state: '01',
        uid: 1001,
        inode: 1,
      },
    ])
  })

  it('a caller socket no process holds any more (inode 0, uid 0): gone, so not redirected, and no uid named', () => {
    const orphan = `   0: ${LO}:${hex(40000)} ${LO}:${hex(3001)} 05 00000000:00000000 00:00000000 00000000     0        0 0 1 0 20 4 30 10 -1\n`
    const ours = row(`${LO}:${hex(4890)}`, `${LO}:${hex(40000)}`, '01', 0)
    expect(redirectedIn(parseProcTcp(HEADER + ours + orphan, true), ends, 3001)).toBe(false)
  })

  const ours = row(`${LO}:${hex(4890)}`, `${LO}:${hex(40000)}`, '01', 0)
  const redirected = row(`${LO}:${hex(40000)}`, `${LO}:${hex(3001)}`)
  const direct = row(`${LO}:${hex(40000)}`, `${LO}:${hex(4890)}`)
  const check = (...rows: string[]): RedirectVerdict =>
    redirectedIn(parseProcTcp(HEADER + rows.join(''), true), ends, 3001)

  it("a caller socket connected to the gateway port, with the proxy end live: redirected, by its socket's uid", () => {
    expect(check(ours, redirected)).toEqual({ uid: 1001 })
    expect(check(ours, row(`${LO}:${hex(40000)}`, `${LO}:${hex(3001)}`, '01', 61931))).toEqual({ uid: 61931 })
    const timeWait = row(`${LO}:${hex(40000)}`, `${LO}:${hex(80)}`, '06', 4242)
    expect(check(ours, redirected, timeWait)).toEqual({ uid: 1001 })
  })

  it('a direct connection, a second socket on the same port, or the proxy end gone: not redirected', () => {
    expect(check(ours, direct)).toBe(false)
    expect(check(ours, direct, redirected)).toBe(false) // SO_REUSEPORT twin connected to the gateway port
    expect(check(redirected)).toBe(false) // the proxy's end is gone (the caller reset its direct socket)
    expect(check(ours)).toBe(false)
    expect(check()).toBe(false)
  })

  it('unreadable tables answer false', async () => {
    const none = procRedirectCheck(3001, () => Promise.reject(new Error('ENOENT')))
    expect(await none(ends)).toBe(false)
  })
})

describe("the redirect check costs the lines of the caller's port, not the whole table (decision 0048)", () => {
  // Any local user can add rows to /proc/net/tcp (an attack review held 4,000 connections: 8,042 rows), and
  // every new connection on an agent listener is checked.
  const noise = Array.from({ length: 5000 }, (_, i) =>
    row(`${LO}:${hex(10_000 + i)}`, `${LO}:${hex(4888)}`).replace('00000000:00000000', `0000${hex(40000)}:00000000`),
  ).join('')
  const table = (...rows: string[]): string => HEADER + noise + rows.join('')
  const ours = row(`${LO}:${hex(4890)}`, `${LO}:${hex(40000)}`, '01', 0)
  const redirected = row(`${LO}:${hex(40000)}`, `${LO}:${hex(3001)}`)
  const v6 = `   0: 0000000000000000FFFF00000100007F:${hex(40000)} 0000000000000000FFFF00000100007F:${hex(3001)} 01 00000000:00000000 00:00000000 00000000  1001        0 1 1 0 20 4 30 10 -1\n`

  it('parses only the rows naming the port, as local or remote port, IPv4 and IPv6; a queue column never matches', () => {
    const text = table(ours, redirected)
    const rows = rowsWithPort(text, 40000, true)
    expect(rows).toEqual(parseProcTcp(text, true).filter((r) => r.localPort === 40000 || r.remotePort === 40000))
    expect(rows).toHaveLength(2) // of 5,002 rows: the noise rows carry 40000 (9C40) only in their tx_queue
    expect(rowsWithPort(HEADER + v6, 40000, true)).toEqual(parseProcTcp(HEADER + v6, true))
    expect(rowsWithPort(HEADER, 40000, true)).toEqual([])
    expect(rowsWithPort('', 40000, true)).toEqual([])
  })

  /** A `read` whose answers the test releases; `reads` counts the table reads asked for. */
  function gatedRead(text: () => string): {
    read: (path: string) => Promise<string>
    reads: () => number
    release: () => void
  } {
    let reads = 0
    let gates: (() => void)[] = []
    return {
      read: (path) => {
        reads++
        const snapshot = path.endsWith('6') ? HEADER : text() // the table as the read starts
        return new Promise((resolve) => gates.push(() => resolve(snapshot)))
      },
      reads: () => reads,
      release: () => {
        const open = gates
        gates = []
        for (const g of open) g()
      },
    }
  }

  it('concurrent checks share one read of the tables', async () => {
    const gate = gatedRead(() => table(ours, redirected))
    const check = procRedirectCheck(3001, gate.read)
    const answers = Promise.all(Array.from({ length: 20 }, () => check(ends)))
    await new Promise((resolve) => setImmediate(resolve))
    expect(gate.reads()).toBe(2) // /proc/net/tcp and /proc/net/tcp6, once for all 20
    gate.release()
    expect(await answers).toEqual(Array(20).fill({ uid: 1001 }))
  })

  // a review of decision 0048: each check of a batch scanned the whole text again, 64 passes of a table any local
  // user can grow (200,000 rows: 0.8 s in one turn of the event loop); a read is now indexed once for its batch
  it('a batch of checks passes over the text of a read once, however many checks share it', async () => {
    let passes = 0
    const text = table(ours, redirected)
    // the table as a String object that counts the passes begun (a pass looks for the end of the header first)
    const counted = Object.assign(new String(text), {
      indexOf(needle: string, from?: number): number {
        if (needle === '\n' && from === undefined) passes++
        return text.indexOf(needle, from)
      },
    }) as unknown as string
    const check = procRedirectCheck(3001, async (path) => (path.endsWith('6') ? HEADER : counted), { maxPending: 64 })
    const answers = await Promise.all(Array.from({ length: 64 }, () => check(ends)))
    expect(answers).toEqual(Array(64).fill({ uid: 1001 }))
    expect(passes).toBe(1)
  })

  it('a check asked while a read runs waits for the next read, which starts when that one ends', async () => {
    let rows = [ours] // the caller's socket is not in the table yet
    const gate = gatedRead(() => table(...rows))
    const check = procRedirectCheck(3001, gate.read)
    const first = check(ends)
    await new Promise((resolve) => setImmediate(resolve))
    const second = check(ends) // asked while the first read runs: it may predate this connection
    const third = check(ends)
    await new Promise((resolve) => setImmediate(resolve))
    expect(gate.reads()).toBe(2) // one read at a time
    rows = [ours, redirected]
    gate.release()
    expect(await first).toBe(false)
    await new Promise((resolve) => setImmediate(resolve))
    expect(gate.reads()).toBe(4) // one more read, shared by the two that waited
    gate.release()
    expect([await second, await third]).toEqual([{ uid: 1001 }, { uid: 1001 }])
  })

  it('past the cap of waiting checks a check is refused (RATE_LIMITED, fail closed), and accepted again below it', async () => {
    const gate = gatedRead(() => table(ours, redirected))
    const check = procRedirectCheck(3001, gate.read, { maxPending: 3 })
    const waiting = [check(ends), check(ends), check(ends)]
    await expect(check(ends)).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      message: expect.stringMatching(/3 connections are already waiting for the redirect check/),
    })
    await new Promise((resolve) => setImmediate(resolve))
    gate.release()
    expect(await Promise.all(waiting)).toEqual(Array(3).fill({ uid: 1001 }))
    const again = check(ends)
    await new Promise((resolve) => setImmediate(resolve))
    gate.release()
    expect(await again).toEqual({ uid: 1001 })
  })
})
