/**
 * Sync sessions (docs/protocol.md §9, "Streams"): the `/meshsig/sync/1.0.0`
 * requests one node sends another travel over one long-lived stream, one
 * request at a time, each answered by its frames up to END or ERROR (the
 * framing of request-response.ts). Opening a libp2p stream (a yamux stream,
 * multistream-select, a peer-store write on each side) costs several times
 * what a converged round itself does, so a requester keeps its stream open.
 * A node may close a session after any answer (idle for `SESSION_IDLE_MS`,
 * or a requester that half-closed after one request, as request-response
 * clients do); a requester whose reused stream fails before any frame came
 * back retries once on a fresh stream (sync requests only read).
 */
import { setMaxListeners } from 'node:events'
import type { Libp2p, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { MeshsigError } from '../core/errors.js'
import { asError, invalidInput, slowAnswerError, toMeshError } from './p2p-errors.js'
import {
  END_FRAME,
  FRAME_OVERHEAD,
  TAG_ITEM,
  errorFrame,
  readItems,
  type ExchangeLimits,
  type StreamingHandler,
} from './request-response.js'
import { MAX_REQUEST_BYTES, MAX_RESPONSE_ITEM_BYTES } from './constants.js'

/** A server closes a session that brought no request, or whose answer could not be written, for this long (ms). */
export const SESSION_IDLE_MS = 120_000
/** Time a graceful close of a session gets (ms). */
const CLOSE_MS = 5_000
/** Answer frames are written in chunks of about this many bytes (one transport message each). */
const ANSWER_CHUNK_BYTES = 64 * 1024

type Lp = ReturnType<typeof lpStream<Stream>>

/** Serve sessions of `protocol`: requests above `maxRequestBytes` end the session. */
export async function handleSessions(
  libp2p: Libp2p,
  protocol: string,
  handler: StreamingHandler,
  maxRequestBytes: number,
): Promise<void> {
  await libp2p.handle(
    protocol,
    (stream, connection) => {
      void serveSession(stream, connection.remotePeer.toString(), handler, maxRequestBytes)
    },
    { maxInboundStreams: 64, maxOutboundStreams: 64, force: true },
  )
}

async function serveSession(
  stream: Stream,
  from: string,
  handler: StreamingHandler,
  maxRequestBytes: number,
): Promise<void> {
  const lp = lpStream(stream, { maxDataLength: maxRequestBytes })
  // one timer per session, re-armed per step (a timeout signal per request costs more than a converged round)
  const stalled = new AbortController()
  const timer = setTimeout(() => stalled.abort(new Error('sync session stalled')), SESSION_IDLE_MS).unref()
  try {
    for (;;) {
      timer.refresh()
      const request = await nextRequest(lp, stream, stalled.signal)
      if (request === undefined) break
      timer.refresh()
      await answer(lp, handler, request, from, stalled.signal)
    }
    clearTimeout(timer)
    await stream.close({ signal: AbortSignal.timeout(CLOSE_MS) })
  } catch (err) {
    stream.abort(asError(err))
  } finally {
    clearTimeout(timer)
  }
}

/** The next request, or undefined when the requester closed its side or stayed idle too long. */
async function nextRequest(lp: Lp, stream: Stream, idle: AbortSignal): Promise<Uint8Array | undefined> {
  try {
    return (await lp.read({ signal: idle })).subarray()
  } catch (err) {
    if (idle.aborted || (stream.remoteWriteStatus !== 'writable' && stream.readBufferLength === 0)) return undefined
    throw err
  }
}

/** Run the handler and write its frames, then END (or ERROR on a failure), batched into chunks. */
async function answer(
  lp: Lp,
  handler: StreamingHandler,
  request: Uint8Array,
  from: string,
  signal: AbortSignal,
): Promise<void> {
  let chunk: Uint8Array[] = []
  let size = 0
  try {
    for await (const item of await handler(request, from)) {
      if (!(item instanceof Uint8Array) || item.length > MAX_RESPONSE_ITEM_BYTES) {
        throw new MeshsigError('INTERNAL', `response item is not bytes or exceeds ${MAX_RESPONSE_ITEM_BYTES} bytes`)
      }
      const frame = new Uint8Array(item.length + FRAME_OVERHEAD)
      frame[0] = TAG_ITEM
      frame.set(item, FRAME_OVERHEAD)
      chunk.push(frame)
      size += frame.length
      if (size < ANSWER_CHUNK_BYTES) continue
      await lp.writeV(chunk, { signal })
      chunk = []
      size = 0
    }
    chunk.push(END_FRAME)
  } catch (err) {
    chunk.push(errorFrame(err))
  }
  await lp.writeV(chunk, { signal })
}

interface Session {
  readonly stream: Stream
  readonly lp: Lp
  busy: boolean
  /** Kept in the map for later requests (else closed after its one answer). */
  kept: boolean
}

/** A reused stream failed before any frame came back: try a fresh one. */
const STALE = Symbol('stale session')

/** The requester's side: one open session per peer, opened on first use. */
export class SyncSessions {
  private readonly sessions = new Map<string, Session>()

  constructor(
    private readonly libp2p: Libp2p,
    private readonly protocol: string,
  ) {}

  /**
   * Send `data` to `peerId` and collect the items of its answer, on the
   * peer's session (a second stream while that one is busy). Throws
   * `INVALID_INPUT`, `UNREACHABLE` or `PEER_ERROR` as `exchange` does.
   */
  async exchange(peerId: string, data: Uint8Array, limits: ExchangeLimits, outer?: AbortSignal): Promise<Uint8Array[]> {
    const maxRequest = limits.maxRequestBytes ?? MAX_REQUEST_BYTES
    if (!(data instanceof Uint8Array) || data.length > maxRequest) {
      throw invalidInput(`a request is bytes of at most ${maxRequest}`)
    }
    const { signal, done } = timed(limits.timeoutMs, outer, limits.answerMs)
    try {
      const cached = this.sessions.get(peerId)
      if (cached !== undefined && !cached.busy) {
        const got = await this.run(peerId, cached, data, limits, signal, true)
        if (got !== STALE) return got
      }
      const fresh = await this.open(peerId, limits, signal)
      if (!this.sessions.has(peerId)) this.keep(peerId, fresh)
      return (await this.run(peerId, fresh, data, limits, signal, false)) as Uint8Array[]
    } finally {
      done()
    }
  }

  private async open(peerId: string, limits: ExchangeLimits, signal: AbortSignal): Promise<Session> {
    let stream: Stream
    try {
      stream = await this.libp2p.dialProtocol(peerIdFromString(peerId), this.protocol, { signal })
    } catch (err) {
      throw toMeshError(err, `cannot open ${this.protocol} to ${peerId}`, 'UNREACHABLE')
    }
    return {
      stream,
      lp: lpStream(stream, { maxDataLength: limits.maxItemBytes + FRAME_OVERHEAD }),
      busy: false,
      kept: false,
    }
  }

  private keep(peerId: string, s: Session): void {
    this.sessions.set(peerId, s)
    s.kept = true
    const forget = (): void => {
      s.kept = false
      if (this.sessions.get(peerId) === s) this.sessions.delete(peerId)
      if (!s.busy) closeQuietly(s.stream)
    }
    s.stream.addEventListener('remoteCloseWrite', forget, { once: true })
    s.stream.addEventListener('close', forget, { once: true })
  }

  private async run(
    peerId: string,
    s: Session,
    data: Uint8Array,
    limits: ExchangeLimits,
    signal: AbortSignal,
    reused: boolean,
  ): Promise<Uint8Array[] | typeof STALE> {
    const seen = { frames: 0 }
    s.busy = true
    try {
      await s.lp.write(data, { signal })
      const items = await readItems(s.lp, { peerId, protocol: this.protocol }, limits, signal, seen)
      s.busy = false
      if (!s.kept) closeQuietly(s.stream) // a second stream, or the peer closed its side meanwhile
      return items
    } catch (err) {
      s.kept = false
      if (this.sessions.get(peerId) === s) this.sessions.delete(peerId)
      s.stream.abort(asError(err))
      if (reused && seen.frames === 0 && !signal.aborted) return STALE
      if (signal.aborted && signal.reason instanceof MeshsigError) throw signal.reason // its own time ran out: a timeout or a slow answer
      throw toMeshError(err, `${this.protocol} with ${peerId} failed`, signal.aborted ? 'UNREACHABLE' : 'PEER_ERROR')
    }
  }
}

function closeQuietly(stream: Stream): void {
  stream.close().catch((err: unknown) => stream.abort(asError(err)))
}

/**
 * A signal that fires after `ms` (or the shorter `answerMs`, as a slow
 * answer) or when `outer` aborts, and its cleanup (one timer, cheaper than
 * `AbortSignal.timeout` + `any`).
 */
function timed(
  ms: number,
  outer: AbortSignal | undefined,
  answerMs?: number,
): { signal: AbortSignal; done: () => void } {
  const ctl = new AbortController()
  setMaxListeners(Infinity, ctl.signal)
  const slow = answerMs !== undefined && answerMs < ms
  const timer = setTimeout(
    () => ctl.abort(slow ? slowAnswerError(answerMs) : new MeshsigError('UNREACHABLE', `no answer within ${ms} ms`)),
    slow ? answerMs : ms,
  )
  const onOuter = (): void => ctl.abort(outer?.reason)
  if (outer?.aborted === true) onOuter()
  else outer?.addEventListener('abort', onOuter, { once: true })
  return {
    signal: ctl.signal,
    done: () => {
      clearTimeout(timer)
      outer?.removeEventListener('abort', onOuter)
    },
  }
}
