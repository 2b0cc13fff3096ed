/**
 * Crash-safe WebSocket dials (issue 12). @libp2p/websockets 10 waits for
 * 'open' with a listener it removes when the dial is aborted, and leaves the
 * socket connecting; on Node 20 the global WebSocket is `ws`, an
 * EventEmitter, so a connect error that arrives after the abort (a SYN that
 * was dropped, then refused) is an unhandled 'error' event that kills the
 * process. Here every dialled socket keeps an error listener for its whole
 * life, and a dial that fails or is aborted closes its socket at once.
 */
import { ConnectionFailedError, type Transport } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { MeshsigError } from '../core/errors.js'

/** The part of a WebSocket (WHATWG or `ws`) a dial uses. */
interface DialSocket {
  binaryType: string
  close(): void
  addEventListener(type: string, listener: (event: unknown) => void, options?: { once?: boolean }): void
  removeEventListener(type: string, listener: (event: unknown) => void): void
}

type SocketConstructor = new (url: string) => DialSocket

/** The dial hook of @libp2p/websockets 10's transport (a method its `dial` calls). */
interface ConnectHook {
  _connect(ma: Multiaddr, options: { signal?: AbortSignal }): Promise<unknown>
}

const SCHEMES: Readonly<Record<string, 'ws' | 'wss'>> = { ws: 'ws', wss: 'wss' }
const HOSTS = new Set(['ip4', 'ip6', 'dns', 'dns4', 'dns6', 'dnsaddr'])

/** The `ws://` or `wss://` URL a WebSocket multiaddr names (as @multiformats/multiaddr-to-uri spells it). */
export function webSocketUrl(ma: Multiaddr): string {
  let host: string | undefined
  let port: string | undefined
  let scheme: 'ws' | 'wss' | undefined
  let tls = false
  for (const c of ma.getComponents()) {
    if (HOSTS.has(c.name) && host === undefined) host = c.name === 'ip6' ? `[${c.value ?? ''}]` : c.value
    else if (c.name === 'tcp') port = c.value
    else if (c.name === 'tls') tls = true
    else if (c.name === 'sni' && c.value !== undefined) host = c.value
    else if (SCHEMES[c.name] !== undefined) scheme = SCHEMES[c.name]
  }
  if (host === undefined || port === undefined || scheme === undefined) {
    throw new MeshsigError('INVALID_INPUT', `not a WebSocket multiaddr: ${ma.toString().slice(0, 120)}`)
  }
  const secure = scheme === 'wss' || tls
  const defaultPort = secure ? '443' : '80'
  return `${secure ? 'wss' : 'ws'}://${host}${port === defaultPort ? '' : `:${port}`}`
}

function ignore(): void {
  // a socket error after the dial settled has no one left to tell; its dial already failed or its connection closes
}

function closeQuietly(socket: DialSocket): void {
  try {
    socket.close() // while connecting, `ws` destroys the request: the TCP socket goes, no SYN is retried
  } catch {
    // already closed
  }
}

/** Wait for 'open'; reject on 'error', 'close' or `signal`. Removes its own listeners either way. */
function opened(socket: DialSocket, url: string, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const settle = (err?: Error): void => {
      socket.removeEventListener('open', onOpen)
      socket.removeEventListener('error', onFail)
      socket.removeEventListener('close', onFail)
      signal?.removeEventListener('abort', onFail)
      if (err === undefined) resolve()
      else reject(err)
    }
    const onOpen = (): void => settle()
    const onFail = (): void => settle(new ConnectionFailedError(`Could not connect to ${url}`))
    socket.addEventListener('open', onOpen)
    socket.addEventListener('error', onFail)
    socket.addEventListener('close', onFail)
    signal?.addEventListener('abort', onFail, { once: true })
  })
}

/**
 * Open a WebSocket to `url`. The socket listens for 'error' until it is
 * gone, so no late error is ever unhandled; a failed or aborted dial closes
 * the socket before it rejects.
 */
export async function openWebSocket(url: string, signal?: AbortSignal): Promise<DialSocket> {
  signal?.throwIfAborted()
  const Ctor = (globalThis as { WebSocket?: SocketConstructor }).WebSocket
  if (Ctor === undefined) throw new MeshsigError('INTERNAL', 'no global WebSocket (import node/polyfill first)')
  const socket = new Ctor(url)
  socket.binaryType = 'arraybuffer'
  socket.addEventListener('error', ignore)
  try {
    await opened(socket, url, signal)
  } catch (err) {
    closeQuietly(socket)
    throw err
  }
  return socket
}

/**
 * Replace a @libp2p/websockets transport's connect step with `openWebSocket`.
 * A transport without that step (a changed library) fails the start rather
 * than dial unguarded.
 */
export function guardWebSocketDials(transport: Transport): Transport {
  const hook = transport as Transport & Partial<ConnectHook>
  if (typeof hook._connect !== 'function') {
    throw new MeshsigError(
      'INTERNAL',
      'the WebSocket transport has no connect step to guard (@libp2p/websockets changed)',
    )
  }
  hook._connect = (ma, options) => openWebSocket(webSocketUrl(ma), options.signal)
  return transport
}
