/**
 * `/meshsig/deliver/1.0.0` (docs/protocol.md §10): a direct message travels
 * to the node hosting its recipient as one length-prefixed request (the JCS
 * bytes of the `msg` envelope, at most `MAX_DELIVER_REQUEST_BYTES`); the node
 * answers one frame (a receipt or a refusal as JSON, at most
 * `MAX_DELIVER_ANSWER_BYTES`). Framing, deadlines and bounds are those of
 * request-response.ts; what the bytes mean is the node's business.
 */
import type { Libp2p } from '@libp2p/interface'
import { MeshsigError } from '../core/errors.js'
import {
  DEFAULT_DELIVER_TIMEOUT_MS,
  DELIVER_PROTOCOL,
  MAX_DELIVER_ANSWER_BYTES,
  MAX_DELIVER_REQUEST_BYTES,
} from './constants.js'
import { exchange, handleStreaming } from './request-response.js'
import type { MeshCallOptions, ProtocolHandler } from './types.js'

/** Serve deliveries with `handler` (its answer is one frame). */
export async function serveDeliveries(libp2p: Libp2p, handler: ProtocolHandler): Promise<void> {
  await handleStreaming(
    libp2p,
    DELIVER_PROTOCOL,
    async (req, from) => [await handler(req, from)],
    MAX_DELIVER_REQUEST_BYTES,
  )
}

/**
 * Deliver `data` to `peerId` (dialled through known addresses or the DHT's
 * peer routing) and return its one-frame answer. Throws `UNREACHABLE` or
 * `PEER_ERROR` like every exchange.
 */
export async function deliverTo(
  libp2p: Libp2p,
  peerId: string,
  data: Uint8Array,
  options: MeshCallOptions = {},
): Promise<Uint8Array> {
  const limits = {
    timeoutMs: options.timeoutMs ?? DEFAULT_DELIVER_TIMEOUT_MS,
    maxItems: 1,
    maxItemBytes: MAX_DELIVER_ANSWER_BYTES,
    maxTotalBytes: MAX_DELIVER_ANSWER_BYTES,
    maxRequestBytes: MAX_DELIVER_REQUEST_BYTES,
  }
  const [answer] = await exchange(libp2p, peerId, DELIVER_PROTOCOL, data, limits, options.signal)
  if (answer === undefined) throw new MeshsigError('PEER_ERROR', `peer ${peerId} sent no answer on ${DELIVER_PROTOCOL}`)
  return answer
}
