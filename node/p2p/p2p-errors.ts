/**
 * Turns libp2p's many error classes into one `MeshsigError` per failure:
 * `INVALID_INPUT` for a bad address or PeerId, `UNREACHABLE` when no
 * connection could be made (or it timed out), `PEER_ERROR` when the peer was
 * reached but the exchange failed.
 */
import { MeshsigError, isMeshsigError, type ErrorCode } from '../core/errors.js'

const INPUT_ERRORS = new Set(['InvalidMultiaddrError', 'InvalidPeerIdError', 'InvalidParametersError'])
const PEER_ERRORS = new Set([
  'UnsupportedProtocolError',
  'ProtocolError',
  'InvalidMessageError',
  'UnexpectedEOFError',
  'InvalidDataLengthError',
  'StreamResetError',
  'StreamBufferError',
])
const UNREACHABLE_ERRORS = new Set([
  'DialError',
  'NoValidAddressesError',
  'TimeoutError',
  'AbortError',
  'DialDeniedError',
  'NotFoundError',
  'ConnectionClosedError',
  'ConnectionClosingError',
  'AggregateError',
  'NotStartedError',
])

function nameOf(err: unknown): string {
  if (err instanceof Error) return err.name
  return typeof err
}

function messageOf(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return err.errors.map((e: unknown) => messageOf(e)).join('; ')
  }
  if (err instanceof Error) return err.message || err.name
  return String(err)
}

/** The MeshsigError code that best describes a libp2p failure. */
export function classifyP2PError(err: unknown, fallback: ErrorCode = 'PEER_ERROR'): ErrorCode {
  if (isMeshsigError(err)) return err.code
  const name = nameOf(err)
  if (INPUT_ERRORS.has(name)) return 'INVALID_INPUT'
  if (PEER_ERRORS.has(name)) return 'PEER_ERROR'
  if (UNREACHABLE_ERRORS.has(name)) return 'UNREACHABLE'
  const code = (err as { code?: unknown } | null)?.code
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ETIMEDOUT') return 'UNREACHABLE'
  return fallback
}

/**
 * Wrap any thrown value as a MeshsigError. An existing MeshsigError passes
 * through unchanged; others get `what` as context and their class name in
 * `details.cause` (never a stack).
 */
export function toMeshError(err: unknown, what: string, fallback: ErrorCode = 'PEER_ERROR'): MeshsigError {
  if (isMeshsigError(err)) return err as MeshsigError
  const code = classifyP2PError(err, fallback)
  return new MeshsigError(code, `${what}: ${messageOf(err)}`, { cause: nameOf(err) })
}

/** The `UNREACHABLE` error of a peer that did not answer within `ms` (details `slow`). */
export function slowAnswerError(ms: number): MeshsigError {
  return new MeshsigError('UNREACHABLE', `the peer did not answer within ${ms} ms`, { slow: true })
}

/** True for an exchange or pass that ended because its peer was too slow (`slowAnswerError`). */
export function isSlowAnswer(err: unknown): boolean {
  return isMeshsigError(err) && (err as MeshsigError).details?.slow === true
}

/** Shorthand for an `INVALID_INPUT` error. */
export function invalidInput(message: string): MeshsigError {
  return new MeshsigError('INVALID_INPUT', message)
}

/** Normalise any thrown value to an Error (for `onError`). */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}
