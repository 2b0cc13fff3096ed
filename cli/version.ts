/** The package version, read from the nearest meshsig package.json (works from source and from dist). */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Version of the installed meshsig package, or '0.0.0' when it cannot be found. */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let depth = 0; depth < 5; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown }
      if (pkg.name === 'meshsig' && typeof pkg.version === 'string') return pkg.version
    } catch {
      // not here: look one folder up
    }
    dir = dirname(dir)
  }
  return '0.0.0'
}
