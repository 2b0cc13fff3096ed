/**
 * The one error path of the API: every failure becomes `{error, code}` with
 * the HTTP status of the core's `ERROR_TABLE`. Body-parser failures are bad
 * input; anything unexpected is a generic INTERNAL answer, never a stack.
 */
import type { NextFunction, Request, Response } from 'express'
import { ERROR_TABLE, MeshsigError, isMeshsigError, type ErrorCode } from '../node/core/errors.js'

/** The JSON body of every error answer. */
export interface ErrorBody {
  readonly error: string
  readonly code: ErrorCode
  /** The DID concerned, when there is one (the seed's 403 shape `{error, did}`). */
  readonly did?: string
  /** Other safe details (field names, limits); never key material. */
  readonly details?: Readonly<Record<string, unknown>>
}

interface BodyParserError {
  readonly type: string
  readonly status?: number
}

function isBodyParserError(err: unknown): err is BodyParserError {
  return typeof err === 'object' && err !== null && typeof (err as { type?: unknown }).type === 'string'
}

/** Turn a body-parser failure into a MeshsigError with a clear message. */
function fromBodyParser(err: BodyParserError, limit: number): MeshsigError {
  switch (err.type) {
    case 'entity.parse.failed':
      return new MeshsigError('MALFORMED', 'request body is not valid JSON')
    case 'entity.too.large':
      return new MeshsigError('PAYLOAD_TOO_LARGE', `request body exceeds ${limit} bytes`, { limit })
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new MeshsigError('INVALID_INPUT', 'request body must be UTF-8 JSON')
    default:
      return new MeshsigError('INVALID_INPUT', 'request body could not be read')
  }
}

/** The MeshsigError for any thrown value (unknown errors become a generic INTERNAL one). */
export function toMeshsigError(err: unknown, bodyLimit: number): MeshsigError {
  if (err instanceof MeshsigError) return err
  if (isMeshsigError(err)) return new MeshsigError(err.code, err.message, err.details as Record<string, unknown>)
  if (isBodyParserError(err) && (err.status ?? 500) < 500) return fromBodyParser(err, bodyLimit)
  return new MeshsigError('INTERNAL', 'internal error')
}

/** The error body of a MeshsigError: `did` lifted to the top, other details kept. */
export function errorBody(err: MeshsigError): ErrorBody {
  const { did, ...rest } = (err.details ?? {}) as Record<string, unknown>
  const body: { error: string; code: ErrorCode; did?: string; details?: Record<string, unknown> } = {
    error: err.message,
    code: err.code,
  }
  if (typeof did === 'string') body.did = did
  if (Object.keys(rest).length > 0 && err.code !== 'INTERNAL') body.details = rest
  return body
}

/** Send `err` as `{error, code}` with its table status. */
export function sendError(res: Response, err: MeshsigError): void {
  if (res.headersSent) return
  res.status(ERROR_TABLE[err.code].http).json(errorBody(err))
}

/** Express error middleware (four arguments): the single place errors are answered. */
export function errorMiddleware(
  bodyLimit: number,
  onInternal: (err: unknown) => void,
): (err: unknown, req: Request, res: Response, next: NextFunction) => void {
  return (err, _req, res, next) => {
    if (res.headersSent) {
      next(err)
      return
    }
    const error = toMeshsigError(err, bodyLimit)
    if (error.code === 'INTERNAL') onInternal(err)
    sendError(res, error)
  }
}

/** Answer for routes that do not exist: 404 `NOT_FOUND`. */
export function notFound(req: Request, _res: Response, next: NextFunction): void {
  next(new MeshsigError('NOT_FOUND', `no endpoint ${req.method} ${req.path}`))
}
