/**
 * Refused actions go to the audit log (docs/protocol.md §8): when an agent
 * or operator action is answered 401 or 403, the node records what was
 * tried, on whose behalf, by which client and with which authority, so a
 * second user probing the node leaves a trace. The client is the socket's
 * address; a forwarded one is kept apart as `forwardedFor` (`auditClient`,
 * decision 0090). The rate limit
 * bounds how many such entries one client can cause.
 */
import type { IncomingMessage } from 'node:http'
import { isMeshsigError } from '../node/core/errors.js'
import { authorityLabel, type Authority } from '../node/services/authority.js'
import type { RouteContext } from './app.js'
import { auditClient } from './client-key.js'

/** An API action that needs authority. */
export interface GuardedAction {
  /** What was tried, e.g. "messages.send". */
  readonly action: string
  /** The DID acted on or for, when there is one. */
  readonly subject: string | null
}

/**
 * Run `fn`; when it fails with `UNAUTHORIZED` or `FORBIDDEN`, record the
 * refusal in the audit log, then rethrow.
 */
export async function auditRefusal<T>(
  ctx: RouteContext,
  req: IncomingMessage,
  what: GuardedAction,
  fn: (authority: Authority) => Promise<T> | T,
): Promise<T> {
  let authority: Authority | undefined
  try {
    authority = ctx.authority(req)
    return await fn(authority)
  } catch (err) {
    if (isMeshsigError(err) && (err.code === 'UNAUTHORIZED' || err.code === 'FORBIDDEN')) {
      ctx.node.recordRefusal({
        action: what.action,
        subject: what.subject,
        code: err.code,
        ...auditClient(req, ctx.opts),
        authority: authority === undefined ? 'invalid-bearer' : authorityLabel(authority),
      })
    }
    throw err
  }
}
