import tseslint from 'typescript-eslint'

/**
 * The import boundaries of docs/architecture.md ("Rooms and their boundaries"). Each one is
 * a pattern on the import specifier as written; `zones` below says which folders it applies to.
 */
const boundary = {
  sqlite: {
    regex: '^better-sqlite3(/|$)',
    message: 'only node/store/ imports better-sqlite3 (docs/architecture.md)',
  },
  libp2p: {
    regex: '^(libp2p|@libp2p/[^/]+|@chainsafe/[^/]+)(/|$)',
    message: 'only node/p2p/ imports libp2p, @libp2p/* and @chainsafe/* (docs/architecture.md)',
  },
  express: {
    regex: '^express(-[a-z-]+)?(/|$)',
    message: 'only api/ imports express (docs/architecture.md)',
  },
  // node/core/ is flat: any `../` leaves it.
  outsideCore: {
    regex: '^\\.\\.(/|$)',
    message: 'node/core/ imports nothing of the project outside itself (docs/architecture.md)',
  },
  io: {
    regex:
      '^(node:)?(fs|fs/promises|net|http|https|http2|tls|dgram|dns|dns/promises|child_process|cluster|worker_threads|readline)$',
    message:
      'node/core/ does no I/O: no node:fs, node:net, node:http and kin (node:crypto is fine) (docs/architecture.md)',
  },
  nodeInternals: {
    regex: '^(\\.\\./)+node/(store|p2p|services)(/|$)',
    message:
      'cli/, api/mcp/ and ui/ reach the node through the API client, the CLI commands or MeshNode, never node/store, node/p2p or node/services (docs/architecture.md)',
  },
  // ui/ talks to the node only over the REST API and the WebSocket stream; it takes the shapes of
  // their answers from api/types.ts, a module of types only (no code reaches the bundle).
  outsideUi: {
    regex: '^(\\.\\./)+(?!api/types\\.js$)(node|api|cli)(/|$)',
    message:
      'ui/ uses only the REST API and the WebSocket stream, no project code; its types come from api/types.ts (docs/architecture.md)',
  },
}

/** Disjoint file sets (a later flat-config block would replace, not extend, an earlier rule). */
const zones = [
  {
    files: ['node/core/**/*.ts'],
    forbid: [boundary.sqlite, boundary.libp2p, boundary.express, boundary.outsideCore, boundary.io],
  },
  { files: ['node/store/**/*.ts'], forbid: [boundary.libp2p, boundary.express] },
  { files: ['node/p2p/**/*.ts'], forbid: [boundary.sqlite, boundary.express] },
  {
    files: ['node/**/*.ts'],
    ignores: ['node/core/**', 'node/store/**', 'node/p2p/**'],
    forbid: [boundary.sqlite, boundary.libp2p, boundary.express],
  },
  { files: ['api/mcp/**/*.ts'], forbid: [boundary.sqlite, boundary.libp2p, boundary.nodeInternals] },
  { files: ['api/**/*.ts'], ignores: ['api/mcp/**'], forbid: [boundary.sqlite, boundary.libp2p] },
  { files: ['cli/**/*.ts'], forbid: [boundary.sqlite, boundary.libp2p, boundary.express, boundary.nodeInternals] },
  { files: ['ui/**/*.ts'], forbid: [boundary.sqlite, boundary.libp2p, boundary.express, boundary.outsideUi] },
]

/** `import('x')` escapes no-restricted-imports: the same patterns, on dynamic imports with a literal source. */
function dynamicImport({ regex, message }) {
  // esquery's /regex/ cannot hold a slash: spell it \x2F.
  return { selector: `ImportExpression[source.value=/${regex.replaceAll('/', '\\x2F')}/]`, message }
}

/** zod's named `z` export carries all of zod, every locale included, into the bundles (decision 0031). */
const zodAsNamespace = {
  selector: "ImportDeclaration[source.value='zod'] > ImportSpecifier[imported.name='z']",
  message: "import * as z from 'zod': the named z export bundles all of zod (decision 0031)",
}

const boundaries = zones.map(({ files, ignores, forbid }) => ({
  files,
  ...(ignores ? { ignores } : {}),
  rules: {
    'no-restricted-imports': ['error', { patterns: forbid.map(({ regex, message }) => ({ regex, message })) }],
    'no-restricted-syntax': ['error', zodAsNamespace, ...forbid.map(dynamicImport)],
  },
}))

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'ui/dist/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'max-lines-per-function': ['warn', { max: 60, skipBlankLines: true, skipComments: true }],
      'no-console': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: { 'max-lines-per-function': 'off' },
  },
  { files: ['**/*.ts'], rules: { 'no-restricted-syntax': ['error', zodAsNamespace] } },
  ...boundaries,
)
