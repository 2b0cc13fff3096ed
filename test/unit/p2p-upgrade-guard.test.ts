import { describe, expect, it } from 'vitest'
import { hostNameOf } from '../../node/core/host-name.js'
import { meshHostNames, meshUpgradeRefusal, upgradeRefusalResponse } from '../../node/p2p/upgrade-guard.js'

const machine = { hostname: 'Box.Local', addresses: ['192.168.1.20', 'fe80::1%eth0', '127.0.0.1', '::1'] }

describe('mesh upgrade guard (SPEC §9 on the mesh WebSocket listener)', () => {
  it('reads the host name of a Host header', () => {
    expect(hostNameOf('127.0.0.1:4890')).toBe('127.0.0.1')
    expect(hostNameOf('LocalHost')).toBe('localhost')
    expect(hostNameOf('[::1]:4890')).toBe('::1')
    expect(hostNameOf('[::1')).toBeUndefined()
    expect(hostNameOf('[]:1')).toBeUndefined()
    expect(hostNameOf(':4890')).toBeUndefined()
    expect(hostNameOf('')).toBeUndefined()
    expect(hostNameOf(undefined)).toBeUndefined()
  })

  it('names a node by loopback, its listen hosts, and the machine when bound to a wildcard', () => {
    const loopback = meshHostNames(['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'], machine)
    expect([...loopback].sort()).toEqual(['127.0.0.1', '::1', 'localhost'])
    const bound = meshHostNames(['/ip4/10.0.0.5/tcp/4890/ws', '/dns4/Mesh.Example/tcp/443/wss'], machine)
    expect(bound.has('10.0.0.5')).toBe(true)
    expect(bound.has('mesh.example')).toBe(true)
    expect(bound.has('192.168.1.20')).toBe(false)
    const wildcard = meshHostNames(['/ip6/::/tcp/4890/ws'], machine, ['Peer.Example', '[2001:db8::1]'])
    for (const name of ['box.local', '192.168.1.20', 'fe80::1', 'peer.example', '2001:db8::1']) {
      expect(wildcard.has(name), name).toBe(true)
    }
    expect(meshHostNames(['/memory/x', 'garbage', '/ip4'], machine).size).toBe(3)
  })

  it('refuses any Origin unless allowed, and a Host that does not name the node', () => {
    const policy = { allowedHosts: meshHostNames(['/ip4/127.0.0.1/tcp/0/ws'], machine) }
    expect(meshUpgradeRefusal({ host: '127.0.0.1:4890' }, policy)).toBeUndefined()
    expect(meshUpgradeRefusal({ host: '[::1]:4890' }, policy)).toBeUndefined()
    expect(meshUpgradeRefusal({ host: '127.0.0.1:4890', origin: 'https://evil.example' }, policy)).toMatch(/origin/)
    expect(meshUpgradeRefusal({ host: '127.0.0.1:4890', origin: 'http://127.0.0.1:4890' }, policy)).toMatch(/origin/)
    expect(meshUpgradeRefusal({ host: '127.0.0.1:4890', origin: 'null' }, policy)).toMatch(/origin/)
    expect(meshUpgradeRefusal({ host: '127.0.0.1', 'sec-websocket-origin': 'http://evil.example' }, policy)).toMatch(
      /origin/,
    )
    expect(meshUpgradeRefusal({ host: 'evil.example:4890' }, policy)).toMatch(/Host/)
    expect(meshUpgradeRefusal({}, policy)).toMatch(/Host/)
    const allowing = { ...policy, allowedOrigins: new Set(['https://app.example']) }
    expect(meshUpgradeRefusal({ host: 'localhost', origin: 'HTTPS://app.example' }, allowing)).toBeUndefined()
    expect(meshUpgradeRefusal({ host: 'evil.example', origin: 'https://app.example' }, allowing)).toMatch(/Host/)
  })

  it('answers a refusal with 403 and the API error body', () => {
    const text = upgradeRefusalResponse('no')
    const [head, body] = text.split('\r\n\r\n') as [string, string]
    expect(head).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/)
    expect(head).toContain(`Content-Length: ${Buffer.byteLength(body)}`)
    expect(JSON.parse(body)).toEqual({ error: 'no', code: 'FORBIDDEN' })
  })
})
