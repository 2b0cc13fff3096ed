/**
 * The signing reverse proxy (docs/proxy.md, docs/proxy.md): signs every request
 * it forwards with RFC 9421 HTTP message signatures, attributes callers by
 * their uid (one listener per agent), fails closed.
 */
export * from './signer-policy.js'
export * from './signing-proxy.js'
export * from './proxy-audit.js'
export * from './node-proxy.js'
export * from './proxy-state.js'
export * from './redirect-check.js'
export { WRONG_UIDS_REPORTED_PER_LISTENER, type AgentListener, type WrongUid } from './admission.js'
export * from './request-target.js'
export { endToEndHeaders, forwardedRequestHeaders, readBody } from './http-forward.js'
export * from './web-bot-auth.js'
export * from './web-bot-auth-proxy.js'
export * from './web-bot-auth-interop.js'
