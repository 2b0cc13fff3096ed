// The proxy's configuration: the --proxy flag and the signer policy (never the body, fail closed).
import { describe, expect, it } from 'vitest'
import { MeshsigError, didFromPublicKey, generateKeyPair } from '../../node/core/index.js'
import {
  normalizeAddress,
  parseProxySpec,
  signerPolicy,
  type ProxyCaller,
  type ProxySigner,
} from '../../node/proxy/index.js'

function signer(): ProxySigner {
  const key = generateKeyPair()
  return { did: didFromPublicKey(key.publicKey), sign: (d) => key.sign(d) }
}

const caller = (over: Partial<ProxyCaller> = {}): ProxyCaller => ({
  remoteAddress: '127.0.0.1',
  remotePort: 50000,
  agent: undefined,
  ...over,
})

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
    return undefined
  } catch (err) {
    return (err as MeshsigError).code
  }
}

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

describe('signerPolicy', () => {
  const node = signer()
  const agent = signer()
  const custodied = (did: string): ProxySigner | undefined => (did === agent.did ? agent : undefined)

  it('signs as the node by default, and fails closed when the node has no key', () => {
    expect(signerPolicy({ nodeSigner: () => node, custodied })(caller())).toBe(node)
    expect(signerPolicy({ nodeSigner: () => undefined })(caller())).toBeUndefined()
  })

  it('X-Meshsig-Agent: refused unless enabled; then only custodied agents', () => {
    const off = signerPolicy({ nodeSigner: () => node, custodied })
    expect(codeOf(() => off(caller({ agent: agent.did })))).toBe('FORBIDDEN')
    const on = signerPolicy({ nodeSigner: () => node, custodied, agentHeader: true })
    expect(on(caller({ agent: agent.did }))).toBe(agent)
    expect(codeOf(() => on(caller({ agent: node.did + 'x' })))).toBe('FORBIDDEN')
  })

  it('maps source addresses to custodied agents (IPv6-mapped too); an unmapped caller gets the node key', () => {
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
    expect(policy(caller({ remoteAddress: '10.0.0.7' }))).toBe(node)
    expect(normalizeAddress('::1')).toBe('::1')
  })
})
