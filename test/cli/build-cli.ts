/**
 * Compile the CLI (or another entry point, such as the MCP server) for
 * process tests. `npm test` runs `npm run build` first, but this helper
 * compiles the entry's own import graph (cli/main.ts and what it imports,
 * with the project's tsconfig options) into a private folder inside the
 * repository, so the test neither races other test runs over `dist/` nor
 * fails because unrelated, in-progress code does not compile. The folder
 * sits in the repo so that node_modules and package.json resolve exactly as
 * they do from dist/. Files outside the entry's import graph are not
 * compiled, and type errors elsewhere do not stop the emit.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Repository root. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** A compiled CLI: the entry to run with node and a cleanup. */
export interface BuiltCli {
  readonly main: string
  cleanup(): void
}

/** Compile cli/main.ts with the local tsc into `.meshsig-test-build-*` (git-ignored). */
export function buildCli(): BuiltCli {
  return buildEntry('cli/main.ts')
}

/**
 * Compile one entry point (a path from the repository root, e.g.
 * `api/mcp/main.ts`) and its import graph the same way; `main` is the
 * compiled entry.
 */
export function buildEntry(entry: string): BuiltCli {
  const out = mkdtempSync(join(REPO_ROOT, '.meshsig-test-build-'))
  const tsconfig = join(out, 'tsconfig.json')
  const config = {
    extends: '../tsconfig.json',
    compilerOptions: { outDir: '.', rootDir: '..', declaration: false, sourceMap: false },
    include: [],
    files: [`../${entry}`],
  }
  writeFileSync(tsconfig, JSON.stringify(config))
  const main = join(out, entry.replace(/\.ts$/, '.js'))
  try {
    execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig], {
      cwd: REPO_ROOT,
      stdio: 'pipe',
    })
  } catch (err) {
    // Type errors still emit JavaScript (noEmitOnError is off); type checking
    // is its own gate (`npm run typecheck`). Only a missing entry is fatal.
    if (!existsSync(main)) {
      rmSync(out, { recursive: true, force: true })
      const output = (err as { stdout?: Buffer }).stdout?.toString() ?? ''
      throw new Error(`tsc failed to build ${entry}:\n${output}`)
    }
  }
  return { main, cleanup: () => rmSync(out, { recursive: true, force: true }) }
}
