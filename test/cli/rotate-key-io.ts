/**
 * What the `meshsig rotate-key` suites give the command: a quiet CLI context
 * for a server, and key files written as a person would (one b64 seed, 0600),
 * both under a test's own folder.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { CliIo } from '../../cli/context.js'
import { toB64, type KeyPair } from '../../node/core/index.js'

/** A CLI context that prints nothing, with `$MESHSIG_HOME` `<dir>/home` and `$MESHSIG_SERVER` `server`. */
export function quietIo(dir: string, server: string): CliIo {
  return {
    stdout: () => undefined,
    stderr: () => undefined,
    readStdin: () => Promise.resolve(new Uint8Array()),
    env: { MESHSIG_HOME: join(dir, 'home'), MESHSIG_SERVER: server },
    now: () => Date.now(),
  }
}

/** `key`'s seed written to `<dir>/<name>` (mode 0600); returns the path. */
export function writeKeyFile(dir: string, name: string, key: KeyPair): string {
  const path = join(dir, name)
  writeFileSync(path, toB64(key.seed) + '\n', { mode: 0o600 })
  return path
}
