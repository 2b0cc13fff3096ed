/** The package version the API reports in `/health` (read once from the nearest meshsig package.json). */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

let cached: string | undefined

/** Version of the running meshsig package, or '0.0.0' when it cannot be found. */
export function apiVersion(): string {
  if (cached !== undefined) return cached
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let depth = 0; depth < 5 && cached === undefined; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown }
      if (pkg.name === 'meshsig' && typeof pkg.version === 'string') cached = pkg.version
    } catch {
      // not here: look one folder up
    }
    dir = dirname(dir)
  }
  cached ??= '0.0.0'
  return cached
}
