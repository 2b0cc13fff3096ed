/**
 * The CLI's way to a running node: the SDK's HTTP client on `--server` /
 * `MESHSIG_SERVER`, with the API token from the meshsig home when there is
 * one (a node bound off loopback needs it for state changes). A node that
 * does not answer is `UNREACHABLE` (exit 3).
 */
import { MeshsigClient } from '../api/client.js'
import { readApiToken } from '../node/identity/index.js'
import type { CliContext } from './context.js'

function tokenOf(home: string): string | undefined {
  try {
    return readApiToken(home)
  } catch {
    return undefined
  }
}

/** A client of the node the command talks to. */
export function apiClient(ctx: CliContext): MeshsigClient {
  const token = tokenOf(ctx.home)
  return new MeshsigClient({ server: ctx.server, timeoutMs: 15_000, ...(token !== undefined ? { token } : {}) })
}
