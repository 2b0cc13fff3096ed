/**
 * The send deadline of HTTP answers (docs/api.md, "Security": stalled
 * readers; decision 0046). An answer the client does not read stays in the
 * node: in the socket's queue, or in a paged answer waiting for `drain`
 * (chunked-response.ts). So once an answer has begun (its status line
 * written), a socket that holds unsent bytes of it and hands none of them to
 * the kernel for `limits.http.sendStallMs` is destroyed, and what it held is
 * freed.
 *
 * Progress is what the socket has written (`bytesWritten` less what still
 * waits, `writableLength`), never what it read: a first version used the
 * socket's idle timeout, which every byte read puts off, and a review kept a
 * stalled answer for good by sending an empty line (allowed before a request
 * line) every half deadline. One sweep every quarter deadline checks every
 * answer in flight; an answer leaves the sweep when it closes. Before an
 * answer begins the node is still working on it (a network discovery, a
 * handshake). WebSocket streams are not HTTP answers: the stream drops its
 * stalled clients itself (ws-stream.ts).
 */
import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

interface Progress {
  /** `written(socket)` when last seen moving. */
  done: number
  /** When they last moved, or when the answer last had nothing waiting. */
  at: number
}

/**
 * How far the socket's writes have gone: writes completed (`bytesWritten`
 * counts what waits too, `writableLength` is what waits), less what the
 * write in flight still holds in libuv's queue (`writeQueueSize`, as net's
 * own timeout reads it): a large write the kernel takes a part at a time
 * moves it, though the write completes only at its end.
 */
function written(socket: Socket): number {
  const queued = (socket as unknown as { _handle?: { writeQueueSize?: number } })._handle?.writeQueueSize ?? 0
  return socket.bytesWritten - socket.writableLength - queued
}

/** Watches answers in flight and destroys the sockets of those that stall. */
export class SendDeadline {
  readonly #answers = new Map<ServerResponse, Progress>()
  #timer: NodeJS.Timeout | undefined

  /** `stallMs`: read at each sweep (limits can be read live); `clock`: ms. */
  constructor(
    private readonly stallMs: () => number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Watch `res` until it closes. */
  watch(res: ServerResponse): void {
    this.#answers.set(res, { done: -1, at: this.clock() })
    res.once('close', () => {
      this.#answers.delete(res)
      if (this.#answers.size === 0) this.stop()
    })
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.sweep(), Math.max(10, this.stallMs() / 4))
      this.#timer.unref()
    }
  }

  /** One check of every answer in flight (the timer runs it; tests may too). */
  sweep(): void {
    const now = this.clock()
    for (const [res, p] of this.#answers) {
      const socket = res.socket
      // not begun (the node works on it), or nothing waiting to be taken: not stalled
      if (!res.headersSent || socket === null || socket.destroyed || socket.writableLength === 0) {
        p.at = now
        continue
      }
      const done = written(socket)
      if (done !== p.done) [p.done, p.at] = [done, now]
      else if (now - p.at >= this.stallMs()) socket.destroy()
    }
  }

  /** Stop sweeping (the API closes); answers still open are left to their sockets. */
  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }
}
