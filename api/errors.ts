/**
 * The one error path of the API: every failure becomes `{error, code}` with
 * the HTTP status of the core's `ERROR_TABLE`. Client errors of the HTTP
 * stack (body-parser, decompression, path decoding) are bad input; anything
 * unexpected is a generic INTERNAL answer, never a stack.
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

/** A client error raised by Express, its router or body-parser (http-errors style: a 4xx `status`). */
interface ClientHttpError {
  readonly status: number
  readonly code?: unknown
}

function isBodyParserError(err: unknown): err is BodyParserError {
  return typeof err === 'object' && err !== null && typeof (err as { type?: unknown }).type === 'string'
}

function isClientHttpError(err: unknown): err is ClientHttpError {
  if (typeof err !== 'object' || err === null) return false
  const status = (err as { status?: unknown }).status
  return typeof status === 'number' && status >= 400 && status < 500
}

/**
 * True for an error of node:zlib (a compressed body that does not
 * decompress): `Z_DATA_ERROR`, `Z_BUF_ERROR`… from gzip and deflate,
 * `ERR__ERROR_FORMAT_…` from brotli.
 */
function isZlibError(err: ClientHttpError): boolean {
  return typeof err.code === 'string' && /^(Z_|ERR__ERROR_|ERR_BROTLI|ERR_ZLIB|ERR_ZSTD)/.test(err.code)
}

const UNDECODABLE_BODY = 'request body could not be decompressed: it does not match its Content-Encoding'

/** Turn a body-parser failure into a MeshsigError with a clear message. */
function fromBodyParser(err: BodyParserError, limit: number): MeshsigError {
  switch (err.type) {
    case 'entity.parse.failed':
      return new MeshsigError('MALFORMED', 'request body is not valid JSON')
    case 'entity.too.large':
      return new MeshsigError('PAYLOAD_TOO_LARGE', `request body exceeds ${limit} bytes`, { limit })
    case 'encoding.unsupported':
      return new MeshsigError(
        'INVALID_INPUT',
        'unsupported Content-Encoding: send the body uncompressed, or with one gzip, deflate or br encoding',
      )
    case 'charset.unsupported':
      return new MeshsigError('INVALID_INPUT', 'request body must be UTF-8 JSON')
    default:
      return new MeshsigError('INVALID_INPUT', 'request body could not be read')
  }
}

/**
 * The MeshsigError for any thrown value. Client errors of the HTTP stack
 * are bad input (400): body-parser failures, a compressed body that does not
 * decompress, a path parameter that is not valid percent-encoding (`%ff`).
 * Anything else unexpected becomes a generic INTERNAL one.
 */
export function toMeshsigError(err: unknown, bodyLimit: number): MeshsigError {
  if (err instanceof MeshsigError) return err
  if (isMeshsigError(err)) return new MeshsigError(err.code, err.message, err.details as Record<string, unknown>)
  if (err instanceof URIError) {
    return new MeshsigError('MALFORMED', 'request path is not valid percent-encoded UTF-8')
  }
  if (isBodyParserError(err) && (err.status ?? 500) < 500) return fromBodyParser(err, bodyLimit)
  if (isClientHttpError(err)) {
    if (isZlibError(err)) return new MeshsigError('MALFORMED', UNDECODABLE_BODY)
    return new MeshsigError('INVALID_INPUT', 'request could not be read')
  }
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
