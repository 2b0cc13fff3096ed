/**
 * A node URL with a user name or password (`http://ops:<password>@node…`):
 * fetch refuses it before connecting, and every error that names the server
 * would print the password, to a terminal, a `--json` reader or a model
 * through MCP (attack review 105). It is refused as bad input, never echoed.
 */
import { MeshsigError } from '../node/core/errors.js'

/** `text` with any `user:password@` of a URL in it replaced by `…@`. */
export function withoutUserinfo(text: string): string {
  return text.replace(/(\/\/)[^/?#@]*@/g, '$1…@')
}

/** Throw `INVALID_INPUT` (without the URL) when `url` carries a user name or password. */
export function checkNoUserinfo(url: URL): void {
  if (url.username === '' && url.password === '') return
  throw new MeshsigError(
    'INVALID_INPUT',
    'the node URL (--server or MESHSIG_SERVER) must not carry a user name or password; ' +
      'give a token with MESHSIG_TOKEN instead',
    { field: 'server' },
  )
}
