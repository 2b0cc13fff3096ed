/**
 * The API bearer token: 32 random bytes, base64url, in `home/api-token`
 * (0600). Made at `meshsig init`; the API requires it for state-changing
 * requests from outside loopback, and the CLI reads it on its own.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { apiTokenPath } from './home.js'
import { readSecretLine, writeSecretLine } from './secure-fs.js'

/** Random bytes in a token. */
export const API_TOKEN_BYTES = 32

const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/

/** Write a fresh random token to `home/api-token` (replacing any old one) and return it. */
export function createApiToken(home: string, random: (n: number) => Uint8Array = randomBytes): string {
  const token = Buffer.from(random(API_TOKEN_BYTES)).toString('base64url')
  writeSecretLine(home, apiTokenPath(home), token, true)
  return token
}

/**
 * The token in `home`, or undefined when there is none. Throws
 * `INSECURE_KEY_FILE` when other users can read the file, `MALFORMED` when
 * it does not hold a token.
 */
export function readApiToken(home: string): string | undefined {
  return readSecretLine(apiTokenPath(home), 'API token file', TOKEN_RE)
}

/** The token in `home`, made first when missing. */
export function ensureApiToken(home: string): string {
  return readApiToken(home) ?? createApiToken(home)
}

/** Constant-time comparison of a presented bearer token with the expected one. */
export function apiTokenMatches(expected: string, presented: string): boolean {
  const a = Buffer.from(expected, 'utf8')
  const b = Buffer.from(presented, 'utf8')
  return a.length === b.length && timingSafeEqual(a, b)
}
