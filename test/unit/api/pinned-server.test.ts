/**
 * Every client speaks to `localhost` as 127.0.0.1, the address the node binds
 * (decision 0055): a stock /etc/hosts resolves `localhost` to ::1 first, where
 * any local user can listen. `localhost.` and `*.localhost` too (review 77):
 * nss-myhostname resolves them to ::1 as well.
 */
import { describe, expect, it } from 'vitest'
import { pinnedServer } from '../../../api/client-http.js'

describe('pinnedServer', () => {
  it('pins localhost, localhost. and *.localhost to 127.0.0.1, keeping scheme, port and path', () => {
    expect(pinnedServer('http://localhost:4888')).toBe('http://127.0.0.1:4888')
    expect(pinnedServer('http://LOCALHOST.:4888/')).toBe('http://127.0.0.1:4888')
    expect(pinnedServer('http://node.localhost:4888')).toBe('http://127.0.0.1:4888')
    expect(pinnedServer('https://localhost/base')).toBe('https://127.0.0.1/base')
  })

  it('leaves every other host as it is', () => {
    for (const server of [
      'http://127.0.0.1:4888',
      'http://[::1]:4888',
      'http://localhost.example.com:1',
      'http://notlocalhost:1',
      'not a url',
    ])
      expect(pinnedServer(server)).toBe(server)
  })
})
