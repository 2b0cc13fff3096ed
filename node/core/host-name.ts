/**
 * Host names as the request guards compare them (docs/protocol.md §8): the
 * API's DNS-rebinding check, the mesh WebSocket upgrade guard and the signing
 * proxy's browser guard (decision 0082) read a `Host` value the same way.
 */

/** The loopback names every guard accepts for a listener bound to loopback. */
export const LOOPBACK_NAMES: readonly string[] = ['localhost', '127.0.0.1', '::1']

/** `host` lowercased, without IPv6 brackets or a zone. */
export function bareHost(host: string): string {
  return host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/%.*$/, '')
}

/** The host name of a `Host` value (`host[:port]` or `[v6][:port]`): lower case, port and brackets removed; undefined when there is none. */
export function hostNameOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  const h = value.trim().toLowerCase()
  if (h === '') return undefined
  if (h.startsWith('[')) {
    const end = h.indexOf(']')
    return end > 1 ? h.slice(1, end) : undefined
  }
  const colon = h.indexOf(':')
  const name = colon === -1 ? h : h.slice(0, colon)
  return name === '' ? undefined : name
}
