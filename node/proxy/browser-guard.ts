/**
 * The signing proxy refuses browsers (docs/proxy.md "Browsers", decision
 * 0082). A browser is a local process that sends what any page it shows
 * chooses: an auto-submitted form or an `<img>` reaches the listener with no
 * preflight, and after DNS rebinding a page is same-origin with it (attack
 * review 114, M1). So before anything is counted, read, signed or audited, a
 * request is refused (403 FORBIDDEN) when it carries a browser's marks (an
 * `Origin` header, RFC 6454 §7, or Fetch Metadata but the lone
 * `Sec-Fetch-Mode: cors` of Node's own fetch) or a `Host` whose name is
 * neither the listener's nor the gateway's (a rebound name: the guard of
 * docs/protocol.md §8 for the API). Agents send none of these, and name the
 * listener or the gateway.
 */
import type { IncomingHttpHeaders } from 'node:http'
import { hostname, networkInterfaces } from 'node:os'
import { MeshsigError } from '../core/index.js'
import { bareHost as bare, hostNameOf, LOOPBACK_NAMES } from '../core/host-name.js'

/** Where a proxy listens and what it forwards to: the names a caller's `Host` may give. */
export interface ProxyNames {
  /** The listeners' address (`127.0.0.1` by default; a wildcard adds the machine's name and addresses). */
  readonly listenHost: string
  /** The gateway's host, as given to `--proxy`. */
  readonly targetHost: string
  /** The authority signed (`--proxy-authority`, decision 0072, or the gateway's `host:port`). */
  readonly authority: string
}

function machineNames(): string[] {
  const out = [hostname()]
  for (const list of Object.values(networkInterfaces())) for (const info of list ?? []) out.push(info.address)
  return out
}

/**
 * The host names a request to this proxy may carry in `Host`: loopback
 * names, the listen address (for a wildcard: the machine's name and own
 * addresses), the gateway's host and the name of the signed authority.
 */
export function proxyHostNames(names: ProxyNames): ReadonlySet<string> {
  const listen = bare(names.listenHost)
  const wildcard = listen === '0.0.0.0' || listen === '::'
  const all = [...LOOPBACK_NAMES, ...(wildcard ? machineNames() : [listen]), names.targetHost]
  const signed = hostNameOf(names.authority)
  if (signed !== undefined) all.push(signed)
  return new Set(all.map(bare))
}

/**
 * The first Fetch Metadata header a browser sends that names this request a
 * browser's, or undefined: any `Sec-Fetch-*` but a lone `Sec-Fetch-Mode: cors`,
 * which Node's own fetch sends on every request (with no `Sec-Fetch-Site`,
 * which a browser always sends with it).
 */
function fetchMetadataMark(headers: IncomingHttpHeaders): string | undefined {
  const mark = Object.keys(headers).find((name) => name.startsWith('sec-fetch-') && name !== 'sec-fetch-mode')
  const mode = headers['sec-fetch-mode']
  return mark ?? (mode !== undefined && mode !== 'cors' ? 'sec-fetch-mode' : undefined)
}

const SIGNED_ONLY_FOR_AGENTS = 'the proxy signs for agents, never for a web browser (docs/proxy.md "Browsers")'

/**
 * Why the proxy refuses a request for what its headers say of its sender, or
 * undefined when it may go on: `FORBIDDEN` for an `Origin` (any value, `null`
 * too), a browser's Fetch Metadata (`fetchMetadataMark`), or a `Host` that is missing or names
 * neither the listener nor the gateway (`allowed`, from `proxyHostNames`).
 */
export function browserRefusal(headers: IncomingHttpHeaders, allowed: ReadonlySet<string>): MeshsigError | undefined {
  if (headers.origin !== undefined) {
    return new MeshsigError(
      'FORBIDDEN',
      `a request with an Origin header comes from a web page: ${SIGNED_ONLY_FOR_AGENTS}`,
    )
  }
  const mark = fetchMetadataMark(headers)
  if (mark !== undefined) {
    return new MeshsigError(
      'FORBIDDEN',
      `a request with a ${mark} header comes from a browser: ${SIGNED_ONLY_FOR_AGENTS}`,
    )
  }
  const host = hostNameOf(headers.host)
  if (host === undefined || !allowed.has(host)) {
    const what = 'the Host header names neither this proxy nor its gateway (DNS rebinding protection)'
    return new MeshsigError('FORBIDDEN', `${what}: call the listener or the gateway by its own name`)
  }
  return undefined
}
