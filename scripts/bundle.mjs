#!/usr/bin/env node
/**
 * Bundles the two executables, `meshsig` and `meshsig-mcp`, from what `tsc`
 * emitted into `dist/` to `dist/bin/` (decision 0031). Node 20 spends most of
 * a start-up resolving and compiling about a thousand ES modules one file at a
 * time; bundled, about twenty files are read before the API port is bound
 * instead of about 140, and the mesh is ready about twice as soon (issue 13).
 * The dynamic imports of the CLI stay dynamic (code splitting), so offline
 * commands still load neither libp2p nor SQLite. better-sqlite3 stays a
 * package: it loads a native addon next to its own files.
 *
 * `npm run build` runs this after `tsc`; the library entry (`dist/node/`) is
 * tsc's output, unbundled. It also writes `dist/main.js`, which runs the
 * bundled `meshsig` CLI: the seed's from-source command `node dist/main.js
 * start` (docs/architecture.md, Build output).
 */
import { build } from 'esbuild'
import { rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'dist', 'bin')

rmSync(out, { recursive: true, force: true })
await build({
  absWorkingDir: root,
  entryPoints: { meshsig: 'dist/cli/main.js', 'meshsig-mcp': 'dist/api/mcp/main.js' },
  outdir: out,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3'],
  // CommonJS dependencies inside an ES module bundle still call require() for Node's built-ins
  banner: {
    js: "import { createRequire as __meshsigRequire } from 'node:module'\nconst require = __meshsigRequire(import.meta.url)",
  },
  legalComments: 'linked',
  logLevel: 'warning',
})

// the seed's README starts the node from a checkout with `node dist/main.js start`: the same CLI as dist/bin/meshsig.js
writeFileSync(
  join(root, 'dist', 'main.js'),
  "#!/usr/bin/env node\n// The meshsig CLI (the seed's `node dist/main.js start`): the bundle in dist/bin/, written by scripts/bundle.mjs\nimport './bin/meshsig.js'\n",
  { mode: 0o755 },
)
