/**
 * The Express application of the REST API, built from a node's service
 * interface so it can be tested without `listen`. Order: metrics timer, Host
 * and Origin guards, rate limit, JSON body (size-limited), routes, 404, the
 * one error middleware.
 */
import express, { type Express } from 'express'
import type { MeshNode } from '../node/mesh-node.js'
import { errorMiddleware, notFound } from './errors.js'
import { resolveApiOptions, type ApiOptions, type ResolvedApiOptions } from './options.js'
import { rateLimiter } from './rate-limit.js'
import { hostGuard, jsonOnly } from './security.js'
import { readRoutes } from './routes/read-routes.js'

/** The part of a MeshNode the API uses. */
export type ApiNode = Pick<MeshNode, 'info'>

/** What every route module receives. */
export interface RouteContext {
  readonly node: ApiNode
  readonly opts: ResolvedApiOptions
}

/** An API app with its resolved options and a way to release what it holds. */
export interface Api {
  readonly app: Express
  readonly options: ResolvedApiOptions
  /** Stop background work (verification workers, metric collectors). */
  close(): Promise<void>
}

/** Build the API for `node`. Throws `INVALID_INPUT` for an unsafe combination of options. */
export function createApi(node: ApiNode, options: ApiOptions): Api {
  const opts = resolveApiOptions(options)
  const app = express()
  app.disable('x-powered-by')
  app.disable('etag')
  app.set('trust proxy', opts.trustProxy.length > 0 ? [...opts.trustProxy] : false)
  app.set('json spaces', 0)
  app.use(hostGuard(opts))
  const limiter = rateLimiter(opts)
  if (limiter) app.use(limiter)
  app.use(jsonOnly)
  app.use(express.json({ limit: opts.bodyLimit, strict: true }))
  const ctx: RouteContext = { node, opts }
  app.use(readRoutes(ctx))
  app.use(notFound)
  app.use(errorMiddleware(opts.bodyLimit, (err) => reportInternal(err)))
  return { app, options: opts, close: async () => undefined }
}

function reportInternal(err: unknown): void {
  if (process.env.MESHSIG_DEBUG) console.error('[meshsig api]', err)
}
