/**
 * The seed form of `--peer` (docs/protocol.md §9): `ws://host:port` names a running
 * meshsig node by its HTTP address; its `/health` endpoint reports its PeerId
 * and multiaddrs, which this module turns into dialable `/p2p/` multiaddrs.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { MeshsigError } from '../core/errors.js'
import { MAX_SEED_ADDRS } from './constants.js'
import { invalidInput } from './p2p-errors.js'
import { deadline } from './request-response.js'

/** Default deadline of the `/health` request (ms). */
export const SEED_RESOLVE_TIMEOUT_MS = 5_000
/** Default cap on the bytes of a seed's `/health` read (node/limits.ts `remoteBodyBytes`). */
export const MAX_HEALTH_BYTES = 64 * 1024

/** True when `peer` is a seed URL (`ws://`, `wss://`, `http://`, `https://`) rather than a multiaddr. */
export function isSeedUrl(peer: string): boolean {
  return /^(wss?|https?):\/\//i.test(peer)
}

function healthUrl(seed: string): URL {
  let url: URL
  try {
    url = new URL(seed)
  } catch {
    throw invalidInput(`not a seed address: ${seed.slice(0, 120)}`)
  }
  if (!/^(wss?|https?):$/.test(url.protocol) || url.hostname === '') {
    throw invalidInput(`a seed address is ws://host:port: ${seed.slice(0, 120)}`)
  }
  const scheme = url.protocol === 'wss:' || url.protocol === 'https:' ? 'https:' : 'http:'
  return new URL(`${scheme}//${url.host}/health`)
}

/**
 * Read at most `maxBytes` of a body, cancelling the stream as soon as it
 * passes them: a seed answering 600 MB costs at most `maxBytes` of memory.
 */
async function readCapped(response: Response, maxBytes: number, host: string): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0')
  const tooLarge = (): MeshsigError =>
    new MeshsigError('PEER_ERROR', `seed ${host} health is larger than ${maxBytes} bytes`)
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined)
    throw tooLarge()
  }
  const reader = response.body?.getReader()
  if (reader === undefined) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined)
      throw tooLarge()
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

async function fetchHealth(url: URL, signal: AbortSignal, maxBytes: number): Promise<unknown> {
  let response: Response
  try {
    response = await fetch(url, { signal, headers: { accept: 'application/json' }, redirect: 'error' })
  } catch (err) {
    throw new MeshsigError('UNREACHABLE', `seed ${url.host} is unreachable: ${(err as Error).message}`)
  }
  if (!response.ok) throw new MeshsigError('PEER_ERROR', `seed ${url.host} answered HTTP ${response.status}`)
  let text: string
  try {
    text = await readCapped(response, maxBytes, url.host)
  } catch (err) {
    if (err instanceof MeshsigError) throw err
    throw new MeshsigError('UNREACHABLE', `seed ${url.host} broke off: ${(err as Error).message}`)
  }
  try {
    return JSON.parse(text)
  } catch {
    throw new MeshsigError('PEER_ERROR', `seed ${url.host} health is not JSON`)
  }
}

function isPeerId(value: unknown): value is string {
  if (typeof value !== 'string') return false
  try {
    peerIdFromString(value)
    return true
  } catch {
    return false
  }
}

/**
 * Keep the well-formed multiaddrs of a health report, each ending in
 * `/p2p/<peerId>` (`given`, a valid PeerId in any spelling, written in base58), without duplicates and at most `MAX_SEED_ADDRS` of them:
 * a seed cannot make one answer cost thousands of dials (review 107 L1).
 */
export function dialableAddresses(given: string, addrs: readonly unknown[]): string[] {
  // its usual spelling: a PeerId written as a CID would slip past the check for this node's own (review 110)
  const peerId = peerIdFromString(given).toString()
  const out = new Set<string>()
  for (const addr of addrs) {
    if (out.size >= MAX_SEED_ADDRS) break
    if (typeof addr !== 'string') continue
    try {
      const text = multiaddr(addr).toString()
      if (!text.includes('/p2p/')) out.add(`${text}/p2p/${peerId}`)
      else if (text.endsWith(`/p2p/${peerId}`)) out.add(text)
    } catch {
      // skip what is not a multiaddr
    }
  }
  return [...out]
}

/**
 * Resolve `ws://host:port` (or http/https/wss) to the node's multiaddrs with
 * `/p2p/`, read from `http://host:port/health` (`{peerId, multiaddrs}`).
 * Throws `INVALID_INPUT` for a malformed address, `UNREACHABLE` when the seed
 * does not answer, `PEER_ERROR` when its answer is unusable or larger than
 * `maxBytes` (default `MAX_HEALTH_BYTES`; never read further than that).
 */
export async function resolveSeedAddress(
  seed: string,
  options: { signal?: AbortSignal; maxBytes?: number } = {},
): Promise<string[]> {
  const url = healthUrl(seed)
  const signal = deadline(SEED_RESOLVE_TIMEOUT_MS, options.signal)
  const health = (await fetchHealth(url, signal, options.maxBytes ?? MAX_HEALTH_BYTES)) as {
    peerId?: unknown
    multiaddrs?: unknown
  }
  if (typeof health !== 'object' || health === null || !isPeerId(health.peerId)) {
    throw new MeshsigError('PEER_ERROR', `seed ${url.host} health has no valid peerId`)
  }
  const addrs = Array.isArray(health.multiaddrs) ? dialableAddresses(health.peerId, health.multiaddrs) : []
  if (addrs.length === 0) throw new MeshsigError('PEER_ERROR', `seed ${url.host} reports no usable multiaddr`)
  return addrs
}
