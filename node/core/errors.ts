/**
 * Every failure meshsig reports is a `MeshsigError` with a stable string
 * `code`. One table (`ERROR_TABLE`) maps each code to its HTTP status and CLI
 * exit code, so the API, the CLI and the MCP server agree on what went wrong.
 */

/** All error codes meshsig reports. Stable: clients and tests match on them. */
export type ErrorCode =
  | 'MALFORMED'
  | 'INVALID_INPUT'
  | 'PAYLOAD_TOO_LARGE'
  | 'INVALID_DID'
  | 'INVALID_KEY'
  | 'SIGNING_REFUSED'
  | 'SIGNATURE_INVALID'
  | 'CLOCK_SKEW'
  | 'REPLAY'
  | 'DUPLICATE'
  | 'UNKNOWN_SIGNER'
  | 'KEY_MISMATCH'
  | 'ROTATED_KEY'
  | 'REVOKED'
  | 'KEL_INVALID'
  | 'DUPLICITY'
  | 'PRE_ROTATION_MISMATCH'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'RATE_LIMITED'
  | 'INSECURE_KEY_FILE'
  | 'NO_IDENTITY'
  | 'UNREACHABLE'
  | 'TIMEOUT'
  | 'PEER_ERROR'
  | 'NODE_UNPROVEN'
  | 'LOG_INCONSISTENT'
  | 'REGISTRY_FULL'
  | 'KEY_LOG_FULL'
  | 'INTERNAL'

/**
 * How one error code surfaces at the API and at the CLI, and what it means
 * for the rest of the node. Every list of codes that decides behaviour is
 * derived from these columns (`codesWhere`), never kept by hand.
 */
export interface ErrorSurface {
  /** HTTP status the REST API answers with. */
  readonly http: number
  /** Process exit code of the CLI (docs/protocol.md: 1 negative answer, 2 bad input, 3 unreachable). */
  readonly exit: number
  /**
   * Gossip validation: `reject` when the code proves the delivering peer passed
   * on something forged or broken (it is penalised); otherwise ignore, since
   * honest nodes can race into it (decision 0005). Default ignore.
   */
  readonly gossip?: 'reject'
  /**
   * Who an envelope refused with this code is charged to in trust
   * (docs/protocol.md §7): `deliverer` for a forged or broken envelope;
   * `signed` when a valid signature of the named DID stands on the refusal
   * (a replay, a stale time, a rotated-out key): the DID signed it once, the
   * delivery is somebody's fault. Default: nobody.
   */
  readonly blame?: 'deliverer' | 'signed'
  /** A responding node's handshake refusal that keeps its meaning at the API (not a 502). */
  readonly handshakeRefusal?: true
  /** The node refused for lack of proof (401/403 of docs/protocol.md §8): a negative answer, not a failure. */
  readonly lackOfProof?: true
  /** Trying again later may succeed (the node or peer was unreachable or busy). */
  readonly retryable?: true
  /**
   * A hosting node's refusal of a direct delivery with this code is not final
   * (it may not know the sender or recipient yet): the sender's outbox tries
   * again (docs/protocol.md §10). Any other refusal ends the delivery.
   */
  readonly deliveryRetry?: true
}

/** The one table mapping error codes to HTTP statuses and CLI exit codes. */
export const ERROR_TABLE: Readonly<Record<ErrorCode, ErrorSurface>> = {
  MALFORMED: { http: 400, exit: 2, gossip: 'reject', blame: 'deliverer', handshakeRefusal: true },
  INVALID_INPUT: { http: 400, exit: 2 },
  PAYLOAD_TOO_LARGE: { http: 413, exit: 2 },
  INVALID_DID: { http: 400, exit: 2, gossip: 'reject' },
  INVALID_KEY: { http: 400, exit: 2, gossip: 'reject' },
  SIGNING_REFUSED: { http: 400, exit: 2 },
  SIGNATURE_INVALID: { http: 400, exit: 1, gossip: 'reject', blame: 'deliverer', handshakeRefusal: true },
  CLOCK_SKEW: { http: 400, exit: 1, blame: 'signed', handshakeRefusal: true },
  REPLAY: { http: 409, exit: 1, blame: 'signed' },
  DUPLICATE: { http: 409, exit: 1 },
  UNKNOWN_SIGNER: { http: 404, exit: 1, blame: 'deliverer', handshakeRefusal: true, deliveryRetry: true },
  KEY_MISMATCH: { http: 400, exit: 1, gossip: 'reject', blame: 'deliverer', handshakeRefusal: true },
  ROTATED_KEY: { http: 400, exit: 1, blame: 'signed' },
  REVOKED: { http: 403, exit: 1, handshakeRefusal: true },
  KEL_INVALID: { http: 400, exit: 1, blame: 'deliverer', deliveryRetry: true },
  DUPLICITY: { http: 409, exit: 1 },
  PRE_ROTATION_MISMATCH: { http: 400, exit: 1, gossip: 'reject', blame: 'deliverer' },
  NOT_FOUND: { http: 404, exit: 1, handshakeRefusal: true, deliveryRetry: true },
  ALREADY_EXISTS: { http: 409, exit: 2 },
  // a refusal for lack of proof is a negative answer (exit 1), like FORBIDDEN, for every command alike
  UNAUTHORIZED: { http: 401, exit: 1, lackOfProof: true },
  FORBIDDEN: { http: 403, exit: 1, lackOfProof: true, handshakeRefusal: true },
  // no answer yet, as for an unreachable node: exit 1 would read as "invalid" to a script calling `meshsig verify`
  RATE_LIMITED: { http: 429, exit: 3, retryable: true, handshakeRefusal: true },
  INSECURE_KEY_FILE: { http: 500, exit: 2 },
  NO_IDENTITY: { http: 404, exit: 2 },
  UNREACHABLE: { http: 502, exit: 3, retryable: true },
  /**
   * A node that took the connection did not answer in time (the SDK client's own timeout): it is there, so
   * this is not UNREACHABLE, and nothing that falls back when no node listens may fall back on it (verify).
   */
  TIMEOUT: { http: 504, exit: 3, retryable: true },
  PEER_ERROR: { http: 502, exit: 3, retryable: true },
  /**
   * A client that holds a token to prove the node with (the home's, or `MESHSIG_TOKEN` on loopback) reached a
   * server that did not prove it holds it (decision 0055): not the node, so nothing is sent to it and none of its
   * answers is used. The client's own verdict, never the node's answer; no answer now, as for UNREACHABLE (exit 3).
   */
  NODE_UNPROVEN: { http: 502, exit: 3 },
  /** The node refuses to sign a checkpoint not consistent with the last it signed (docs/audit.md). */
  LOG_INCONSISTENT: { http: 409, exit: 1 },
  /** The node stores no more DIDs of others (agents and key logs: limits.registry.maxAgents, docs/protocol.md §7); not stored, not audited. */
  REGISTRY_FULL: { http: 507, exit: 1 },
  /** A DID's key log holds the most key events a node stores (docs/protocol.md §6); final for that DID. */
  KEY_LOG_FULL: { http: 409, exit: 1 },
  INTERNAL: { http: 500, exit: 1, deliveryRetry: true },
}

/** Most characters of a refusal's reason that leaves the node in an event, an audit entry or a peer's answer. */
export const MAX_REASON_CHARS = 300

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/**
 * `text` cut to `MAX_REASON_CHARS` (with `…` when cut), well formed: a
 * reason can repeat what a sender wrote (an unknown field's name, whole, a
 * lone surrogate it escaped in JSON), and it is sent to every stream client
 * and kept in the audit log, whose canonical form refuses a lone surrogate
 * (a refusal cut inside an emoji was neither audited nor announced). The cut
 * never splits a pair; a lone surrogate becomes U+FFFD.
 */
export function shortReason(text: string): string {
  let shown = text
  if (text.length > MAX_REASON_CHARS) {
    let end = MAX_REASON_CHARS - 1
    const last = text.charCodeAt(end - 1)
    if (last >= 0xd800 && last <= 0xdbff) end -= 1
    shown = `${text.slice(0, end)}…`
  }
  return shown.replace(LONE_SURROGATE, '\ufffd')
}

/** Base class of every error meshsig raises on purpose. */
export class MeshsigError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode
  /** Optional structured details safe to show to a client (never key material). */
  readonly details: Readonly<Record<string, unknown>> | undefined

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message)
    this.name = 'MeshsigError'
    this.code = code
    this.details = details
  }

  /** HTTP status for this error. */
  get httpStatus(): number {
    return ERROR_TABLE[this.code].http
  }

  /** CLI exit code for this error. */
  get exitCode(): number {
    return ERROR_TABLE[this.code].exit
  }
}

/** Structurally invalid input: wrong shape, wrong types, bad encoding. */
export class MalformedError extends MeshsigError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('MALFORMED', message, details)
    this.name = 'MalformedError'
  }
}

/** A DID that is not a valid did:msig or did:key. */
export class InvalidDidError extends MeshsigError {
  constructor(message: string) {
    super('INVALID_DID', message)
    this.name = 'InvalidDidError'
  }
}

/** A key that is not a valid Ed25519 public key or seed. */
export class InvalidKeyError extends MeshsigError {
  constructor(message: string) {
    super('INVALID_KEY', message)
    this.name = 'InvalidKeyError'
  }
}

/** A signature that does not verify under the expected key. */
export class SignatureInvalidError extends MeshsigError {
  constructor(message = 'signature does not verify', details?: Record<string, unknown>) {
    super('SIGNATURE_INVALID', message, details)
    this.name = 'SignatureInvalidError'
  }
}

/** A message whose timestamp lies outside the accepted window. */
export class ClockSkewError extends MeshsigError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('CLOCK_SKEW', message, details)
    this.name = 'ClockSkewError'
  }
}

/** A (sender, nonce) pair seen before inside the freshness window. */
export class ReplayError extends MeshsigError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('REPLAY', message, details)
    this.name = 'ReplayError'
  }
}

/**
 * A DID that has been revoked: nothing from or to it is accepted. `signed`
 * false marks an envelope of it that its last key did not sign: not audited
 * (docs/protocol.md §5, decision 0044).
 */
export class RevokedError extends MeshsigError {
  constructor(did: string, signed = true) {
    super('REVOKED', `DID is revoked: ${did}`, signed ? { did } : { did, signed: false })
    this.name = 'RevokedError'
  }
}

/** True when `err` is a MeshsigError (across module copies, by duck type). */
export function isMeshsigError(err: unknown): err is MeshsigError {
  return (
    err instanceof MeshsigError ||
    (typeof err === 'object' &&
      err !== null &&
      typeof (err as { code?: unknown }).code === 'string' &&
      (err as { code: string }).code in ERROR_TABLE)
  )
}

/** HTTP status and exit code for any thrown value (unknown errors are INTERNAL). */
export function surfaceOf(err: unknown): ErrorSurface & { code: ErrorCode } {
  const code: ErrorCode = isMeshsigError(err) ? err.code : 'INTERNAL'
  return { code, ...ERROR_TABLE[code] }
}

/** The error codes whose table row satisfies `test`, as a set (every behaviour list is derived this way). */
export function codesWhere(test: (surface: ErrorSurface) => boolean): ReadonlySet<ErrorCode> {
  return new Set((Object.keys(ERROR_TABLE) as ErrorCode[]).filter((code) => test(ERROR_TABLE[code])))
}

/** True when `code` is an ErrorCode in `set` (for codes read from the wire or an audit entry). */
export function hasCode(set: ReadonlySet<ErrorCode>, code: string | null | undefined): boolean {
  return code != null && set.has(code as ErrorCode)
}
