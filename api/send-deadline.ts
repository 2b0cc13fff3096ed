/**
 * The send deadline of HTTP answers (docs/api.md, "Security": stalled
 * readers). An answer the client does not read stays in the node: in the
 * socket's queue, or in a paged answer waiting for `drain`
 * (chunked-response.ts). So once an answer has begun (its status line
 * written), a socket that takes none of its bytes for
 * `limits.http.sendStallMs` is destroyed, and what it held is freed. Node's
 * socket timeout measures exactly that: it is put off by every read and
 * written byte, also by a large write the client is slowly taking (net's
 * `_onTimeout`), so a slow reader that keeps reading is never cut. Before
 * the answer begins the node is still working on the request (a network
 * discovery, a handshake): the timeout is then only armed again. WebSocket
 * streams are not HTTP answers: the `ws` library clears the timeout of an
 * upgraded socket, and the stream drops its stalled clients itself
 * (ws-stream.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

/**
 * Arm the send deadline on the socket of `req` for this answer. Node clears
 * a socket's timeout when its next request on a kept-alive connection
 * arrives, so each request arms it anew.
 */
export function armSendDeadline(req: IncomingMessage, res: ServerResponse, stallMs: number): void {
  req.socket.setTimeout(stallMs)
  // with a listener, Node's HTTP server leaves the timed-out socket to it (`socketOnTimeout`)
  res.on('timeout', (socket: Socket) => {
    if (res.headersSent) socket.destroy()
    else socket.setTimeout(stallMs)
  })
}
