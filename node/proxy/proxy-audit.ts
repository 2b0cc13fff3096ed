/**
 * What the signing proxy records in the node's audit log (docs/proxy.md
 * "Audit", docs/audit.md "Entries of the signing proxy"): two entries of kind
 * `proxy.request` per forwarded request, append-only leaves like every
 * entry. The first is appended, in a commit of its own, once the request is
 * signed and before it is forwarded (`status: null`): the log holds every
 * request signed as an agent before the gateway can act on it, and a crash
 * during the round trip loses none. When it cannot be appended the request is
 * not forwarded. The second records the outcome and names the first by its
 * index (`requestEntry`). Never headers, bodies or queries.
 */
import { splitTarget, type ErrorCode } from '../core/index.js'

/** What the proxy records of one request it signed (audit kind `proxy.request`): never headers or bodies. */
export interface ProxyAuditRecord {
  /** DID of the signer. */
  readonly signer: string
  readonly method: string
  readonly authority: string
  /** The path without the query (a query may hold tokens). */
  readonly path: string
  /**
   * null: signed and about to be forwarded (the entry written before the gateway gets it); else the
   * gateway's status, or the proxy's own 502/504 when the gateway failed.
   */
  readonly status: number | null
  /** UNREACHABLE when the gateway could not be reached or did not answer in time, PEER_ERROR for a broken answer. */
  readonly code: ErrorCode | null
  /** In an outcome: the audit index of the entry written before forwarding (when the log gave one). */
  readonly requestEntry?: number
  /**
   * In an outcome with no status: the caller hung up before the gateway's answer came (the gateway may
   * have received and acted on the request; it was not unreachable).
   */
  readonly callerLeft?: true
}

/**
 * Records one entry; returns its index in the log, when there is one. A
 * throw while recording a request before it is forwarded stops the
 * forwarding.
 */
export type ProxyAudit = (record: ProxyAuditRecord) => number | void

/** Longest path recorded (characters); longer ones are cut. */
export const MAX_AUDIT_PATH = 1024
/** Longest authority recorded (characters). */
export const MAX_AUDIT_AUTHORITY = 255

/** What is signed of a request, as the audit records it. */
export type AuditedRequest = Pick<ProxyAuditRecord, 'signer' | 'method' | 'authority' | 'path'>

function bounded(r: ProxyAuditRecord): ProxyAuditRecord {
  return {
    ...r,
    authority: r.authority.slice(0, MAX_AUDIT_AUTHORITY),
    path: splitTarget(r.path).path.slice(0, MAX_AUDIT_PATH),
  }
}

/**
 * Record `request` before it is forwarded: `{entry}` (its index, when the
 * log gives one), or undefined when the log refused it (`onError` is told;
 * the caller must not forward). No audit configured: `{entry: undefined}`.
 */
export function auditRequest(
  audit: ProxyAudit | undefined,
  onError: ((err: unknown) => void) | undefined,
  request: AuditedRequest,
): { entry: number | undefined } | undefined {
  if (!audit) return { entry: undefined }
  try {
    const entry = audit(bounded({ ...request, status: null, code: null }))
    return { entry: typeof entry === 'number' ? entry : undefined }
  } catch (err) {
    onError?.(err)
    return undefined
  }
}

/** How a forwarded request ended: the gateway's status, the proxy's failure, or the caller gone first. */
export type ProxyOutcome =
  | { readonly status: number; readonly code: ErrorCode | null }
  | { readonly status: null; readonly code: null; readonly callerLeft: true }

/** Record the outcome of a request recorded as `entry`; a failure goes to `onError` (the answer is on its way). */
export function auditOutcome(
  audit: ProxyAudit | undefined,
  onError: ((err: unknown) => void) | undefined,
  request: AuditedRequest,
  entry: number | undefined,
  outcome: ProxyOutcome,
): void {
  if (!audit) return
  try {
    audit(bounded({ ...request, ...outcome, ...(entry !== undefined ? { requestEntry: entry } : {}) }))
  } catch (err) {
    onError?.(err)
  }
}
