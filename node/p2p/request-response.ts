/**
 * Generic request-response over a libp2p stream, used by sync, discovery and
 * handshakes. The requester writes one length-prefixed request and closes its
 * side; the responder answers with length-prefixed frames whose first byte is
 * a tag: ITEM (payload follows), ERROR (JSON `{code, message}`) or END. Every
 * size is bounded and every exchange has a deadline.
 */
import { setMaxListeners } from 'node:events'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { MeshsigError, isMeshsigError } from '../core/errors.js'
import {
  MAX_REQUEST_BYTES,
  MAX_RESPONSE_ITEMS,
  MAX_RESPONSE_ITEM_BYTES,
  MAX_RESPONSE_TOTAL_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from './constants.js'
import { asError, invalidInput, toMeshError } from './p2p-errors.js'

/** Tag of a frame carrying one answer item. */
export const TAG_ITEM = 0x00
const TAG_ERROR = 0x01
const TAG_END = 0x02
/** The frame that ends an answer. */
export const END_FRAME = Uint8Array.of(TAG_END)
/** Room for the tag byte on top of an item. */
export const FRAME_OVERHEAD = 1

/** Answers one request with zero or more items. */
export type StreamingHandler = (
  request: Uint8Array,
  fromPeerId: string,
) => Promise<Iterable<Uint8Array> | AsyncIterable<Uint8Array>> | Iterable<Uint8Array> | AsyncIterable<Uint8Array>

/** Bounds of one exchange. */
export interface ExchangeLimits {
  /** Deadline of the whole exchange (ms). */
  readonly timeoutMs: number
  /** Most items accepted. */
  readonly maxItems: number
  /** Largest single item (bytes). */
  readonly maxItemBytes: number
  /** Largest sum of item sizes (bytes). */
  readonly maxTotalBytes: number
  /** Largest request sent (bytes; default `MAX_REQUEST_BYTES`). */
  readonly maxRequestBytes?: number
  /** An answer not complete within this long ends the exchange as slow (`slowAnswerError`; ms; none: `timeoutMs` only). */
  readonly answerMs?: number
}

/** Default bounds: 15 s, 100k items, 1 MiB per item, 64 MiB in all. */
export const DEFAULT_EXCHANGE_LIMITS: ExchangeLimits = {
  timeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
  maxItems: MAX_RESPONSE_ITEMS,
  maxItemBytes: MAX_RESPONSE_ITEM_BYTES,
  maxTotalBytes: MAX_RESPONSE_TOTAL_BYTES,
}

/** Where a composite deadline keeps its timeout (see `deadline`). */
const TIMEOUT = Symbol('deadline timeout')

/**
 * A signal that fires on `timeoutMs` or when `outer` aborts. Node 20's
 * `AbortSignal.any` holds its sources weakly, and a collected
 * `AbortSignal.timeout` never fires (nodejs/node#57736): the composite keeps
 * its timeout reachable, else a garbage collection during a long dial (a DHT
 * peer lookup under load) left the exchange without its deadline.
 */
export function deadline(timeoutMs: number, outer?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs)
  const signal = outer === undefined ? timeout : AbortSignal.any([timeout, outer])
  if (signal !== timeout) Object.defineProperty(signal, TIMEOUT, { value: timeout })
  setMaxListeners(Infinity, signal)
  return signal
}

/** The frame that ends an answer with a refusal (`{code, message}`; no detail of an internal failure). */
export function errorFrame(err: unknown): Uint8Array {
  const body = isMeshsigError(err)
    ? { code: err.code, message: err.message }
    : { code: 'INTERNAL', message: 'the peer failed to answer' }
  return new Uint8Array(Buffer.concat([Uint8Array.of(TAG_ERROR), Buffer.from(JSON.stringify(body), 'utf8')]))
}

async function writeItems(
  lp: ReturnType<typeof lpStream<Stream>>,
  items: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  signal: AbortSignal,
): Promise<void> {
  for await (const item of items) {
    if (!(item instanceof Uint8Array) || item.length > MAX_RESPONSE_ITEM_BYTES) {
      throw new MeshsigError('INTERNAL', `response item is not bytes or exceeds ${MAX_RESPONSE_ITEM_BYTES} bytes`)
    }
    await lp.write(new Uint8ArrayList(Uint8Array.of(TAG_ITEM), item), { signal })
  }
}

/** Serve one inbound stream: read the request, run the handler, stream the answer. */
async function serve(
  stream: Stream,
  connection: Connection,
  handler: StreamingHandler,
  maxRequestBytes: number,
): Promise<void> {
  const signal = deadline(DEFAULT_REQUEST_TIMEOUT_MS * 4)
  const lp = lpStream(stream, { maxDataLength: maxRequestBytes })
  try {
    const request = (await lp.read({ signal })).subarray()
    try {
      await writeItems(lp, await handler(request, connection.remotePeer.toString()), signal)
      await lp.write(END_FRAME, { signal })
    } catch (err) {
      await lp.write(errorFrame(err), { signal })
    }
    await stream.close({ signal })
  } catch (err) {
    stream.abort(asError(err))
  }
}

/** Register `handler` for `protocol` on a libp2p node; requests above `maxRequestBytes` are refused. */
export async function handleStreaming(
  libp2p: Libp2p,
  protocol: string,
  handler: StreamingHandler,
  maxRequestBytes = MAX_REQUEST_BYTES,
): Promise<void> {
  await libp2p.handle(
    protocol,
    (stream, connection) => {
      void serve(stream, connection, handler, maxRequestBytes)
    },
    { maxInboundStreams: 64, maxOutboundStreams: 64, force: true },
  )
}

function remoteError(peerId: string, protocol: string, frame: Uint8Array): MeshsigError {
  let body: { code?: unknown; message?: unknown } = {}
  try {
    body = JSON.parse(Buffer.from(frame.subarray(1)).toString('utf8')) as typeof body
  } catch {
    // a garbled error frame still means the peer refused
  }
  const remoteCode = typeof body.code === 'string' ? body.code.slice(0, 40) : 'UNKNOWN'
  const message = typeof body.message === 'string' ? body.message.slice(0, 500) : 'no message'
  return new MeshsigError('PEER_ERROR', `peer ${peerId} refused ${protocol}: ${remoteCode}: ${message}`, {
    peerId,
    protocol,
    remoteCode,
  })
}

/** Read one answer's frames up to END; `seen.frames` counts frames as they arrive (an ERROR frame too). */
export async function readItems(
  lp: ReturnType<typeof lpStream<Stream>>,
  ids: { peerId: string; protocol: string },
  limits: ExchangeLimits,
  signal: AbortSignal,
  seen: { frames: number } = { frames: 0 },
): Promise<Uint8Array[]> {
  const items: Uint8Array[] = []
  let total = 0
  for (;;) {
    const frame = (await lp.read({ signal })).subarray()
    seen.frames++
    if (frame[0] === TAG_END) return items
    if (frame[0] === TAG_ERROR) throw remoteError(ids.peerId, ids.protocol, frame)
    if (frame[0] !== TAG_ITEM) throw new MeshsigError('PEER_ERROR', `peer ${ids.peerId} sent an unknown frame`)
    total += frame.length - FRAME_OVERHEAD
    if (items.length >= limits.maxItems || total > limits.maxTotalBytes) {
      // `over` tells a caller whose byte limit is its own budget (not the protocol's) which bound was passed
      const over = items.length >= limits.maxItems ? 'items' : 'bytes'
      throw new MeshsigError('PEER_ERROR', `peer ${ids.peerId} sent more than the ${ids.protocol} response limits`, {
        over,
      })
    }
    items.push(frame.slice(FRAME_OVERHEAD))
  }
}

function parsePeerId(peerId: string): PeerId {
  try {
    return peerIdFromString(peerId)
  } catch {
    throw invalidInput(`not a PeerId: ${String(peerId).slice(0, 80)}`)
  }
}

/**
 * Send `data` to `peerId` over `protocol` and collect the items of its answer.
 * Throws `INVALID_INPUT`, `UNREACHABLE` (no connection, or the deadline passed)
 * or `PEER_ERROR` (refused, malformed or oversized answer).
 */
export async function exchange(
  libp2p: Libp2p,
  peerId: string,
  protocol: string,
  data: Uint8Array,
  limits: ExchangeLimits,
  outer?: AbortSignal,
): Promise<Uint8Array[]> {
  const maxRequest = limits.maxRequestBytes ?? MAX_REQUEST_BYTES
  if (!(data instanceof Uint8Array) || data.length > maxRequest) {
    throw invalidInput(`a request is bytes of at most ${maxRequest}`)
  }
  const target = parsePeerId(peerId)
  const signal = deadline(limits.timeoutMs, outer)
  let stream: Stream
  try {
    stream = await libp2p.dialProtocol(target, protocol, { signal })
  } catch (err) {
    throw toMeshError(err, `cannot open ${protocol} to ${peerId}`, 'UNREACHABLE')
  }
  try {
    const lp = lpStream(stream, { maxDataLength: limits.maxItemBytes + FRAME_OVERHEAD })
    await lp.write(data, { signal })
    await stream.close({ signal })
    return await readItems(lp, { peerId, protocol }, limits, signal)
  } catch (err) {
    stream.abort(asError(err))
    throw toMeshError(err, `${protocol} with ${peerId} failed`, signal.aborted ? 'UNREACHABLE' : 'PEER_ERROR')
  }
}
