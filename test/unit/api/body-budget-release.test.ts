/**
 * Review H8 (decision 0092 addendum): two ways past the body budget.
 * - H8-1: a compressed body was charged its compressed length, yet it is read
 *   up to the body limit once inflated (a 1 KB gzip holds 1 MiB), and one
 *   declared past the limit was not charged at all. It is now charged the
 *   whole limit, as a chunked body is.
 * - H8-2: the charge was given back on the answer's `close` alone; an answer
 *   queued behind another on a pipelined socket never closes when the socket
 *   is destroyed, so its charge stayed for good (26 such requests shut every
 *   non-operator body out until a restart). It is now given back on the
 *   socket's close too, once.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { connect } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { BodyBudget, bodyCharge, bodyGate } from '../../../api/body-budget.js'
import { waitFor } from '../../helpers/wait-for.js'

const request = (headers: Record<string, string>): IncomingMessage => ({ headers }) as unknown as IncomingMessage

describe('a compressed body', () => {
  it('is charged the whole body limit, whatever length it declares', () => {
    expect(bodyCharge(request({ 'content-length': '1052', 'content-encoding': 'gzip' }), 1024 * 1024)).toBe(1024 * 1024)
    expect(bodyCharge(request({ 'content-length': '2000000', 'content-encoding': 'br' }), 1024 * 1024)).toBe(
      1024 * 1024,
    )
    expect(bodyCharge(request({ 'content-length': '512', 'content-encoding': 'identity' }), 1024)).toBe(512)
  })
})

let server: Server | undefined
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())))

describe('a pipelined request whose socket is destroyed', () => {
  it('gives its charge back', async () => {
    const budget = new BodyBudget()
    const gate = bodyGate(budget, 1024 * 1024, () => ({ key: 'address:loopback', operator: false }))
    server = createServer((req, res) => {
      if (!gate(req, res)) return
      if (req.method === 'GET') return // the first answer never ends: the one behind it waits its turn
      req.resume()
    })
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as { port: number }).port
    for (let round = 0; round < 5; round++) {
      const s = connect(port, '127.0.0.1')
      s.on('error', () => undefined)
      s.write(
        'GET /slow HTTP/1.1\r\nHost: x\r\n\r\n' +
          'POST /verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{',
      )
      await waitFor(() => budget.held >= 1000 || undefined) // the second request was charged
      s.destroy()
      await waitFor(() => budget.held === 0 || undefined) // and given back when its socket went
    }
    expect(budget.held).toBe(0)
  })
})
