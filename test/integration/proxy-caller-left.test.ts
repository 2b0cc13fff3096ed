import { createServer, type IncomingMessage } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { didFromPublicKey, generateKeyPair } from '../../node/core/index.js'
import { createSigningProxy, type ProxyAuditRecord } from '../../node/proxy/index.js'
import { waitFor } from '../helpers/wait-for.js'

/**
 * The outcome entry of a request the gateway received, when the caller hangs
 * up before the answer (docs/proxy.md, "Audit"): a review of the day found it
 * audited as "gateway unreachable" (502 UNREACHABLE), so an agent could make
 * any request it sent look as if the gateway never got it. It now says the
 * caller left: no status, `callerLeft`, and the entry of the request it
 * belongs to.
 */
describe('the outcome entry of a request the gateway received', () => {
  it('says the caller left when it hangs up before the answer, not that the gateway was unreachable', async () => {
    const got: IncomingMessage[] = []
    const gateway = createServer((req, res) => {
      got.push(req) // the gateway acts on it and answers a little later
      setTimeout(() => res.end('done'), 300)
    })
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r))
    const key = generateKeyPair()
    const did = didFromPublicKey(key.publicKey)
    const records: ProxyAuditRecord[] = []
    const proxy = await createSigningProxy({
      listenPort: 0,
      targetHost: '127.0.0.1',
      targetPort: (gateway.address() as AddressInfo).port,
      upstreamLocalAddress: null,
      signerFor: () => ({ did, sign: (d) => key.sign(d) }),
      audit: (r) => {
        records.push(r)
        return records.length - 1
      },
    })
    try {
      const s = connect(proxy.port, '127.0.0.1', () =>
        s.write('POST /transfer HTTP/1.1\r\nHost: x\r\ncontent-length: 2\r\n\r\nhi'),
      )
      s.on('error', () => undefined)
      await waitFor(() => got.length === 1) // the gateway has the signed request
      s.destroy() // the agent hangs up before the answer
      await waitFor(() => records.length === 2)
      // the gateway was reached and acted: the log must not say it was unreachable
      expect(records[0]).toMatchObject({ signer: did, method: 'POST', path: '/transfer', status: null })
      expect(records[1]).toMatchObject({ status: null, code: null, callerLeft: true, requestEntry: 0 })
    } finally {
      await proxy.close()
      gateway.closeAllConnections()
      await new Promise((r) => gateway.close(r))
    }
  })
})
