/**
 * Where meshsig keeps its files. The home folder is resolved from the
 * environment in exactly one place (`resolveHome`); every other function takes
 * it as an argument.
 */
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

/** Environment variable naming the meshsig home folder. */
export const HOME_ENV = 'MESHSIG_HOME'
/** Name of the identity file inside the home folder. */
export const IDENTITY_FILE = 'identity.json'
/** Name of the API bearer token file inside the home folder. */
export const API_TOKEN_FILE = 'api-token'

/**
 * The meshsig home folder: `explicit` when given (e.g. `--home`), else
 * `$MESHSIG_HOME`, else `~/.meshsig`. Always an absolute path.
 */
export function resolveHome(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[HOME_ENV]
  if (explicit !== undefined && explicit !== '') return resolve(explicit)
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv)
  return join(homedir(), '.meshsig')
}

/** Path of `identity.json` in `home`. */
export function identityPath(home: string): string {
  return join(home, IDENTITY_FILE)
}

/** Path of the API token file in `home`. */
export function apiTokenPath(home: string): string {
  return join(home, API_TOKEN_FILE)
}
