// A renamed field in an API response type fails the typecheck (issue 10): the handlers build their answers
// against api/types.ts and node/core/views.ts, and the dashboard's types are derived from them. Each case
// compiles the real tree with the TypeScript compiler API (tsconfig.json, or ui/tsconfig.json for the UI's
// .ts files) with one field renamed in memory, and expects the compiler to name the file that builds or
// reads that field; the same file compiles cleanly without the rename.
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../cli/build-cli.js'

/** A field of one declaration renamed: `readonly <field>` inside `<block>` becomes `readonly <field>Renamed`. */
interface Rename {
  readonly file: string
  readonly block: string
  readonly field: string
}

function renamed(r: Rename): string {
  const text = readFileSync(join(REPO_ROOT, r.file), 'utf8')
  const start = text.indexOf(r.block)
  if (start === -1) throw new Error(`${r.block} not found in ${r.file}`)
  const end = text.indexOf('\n}', start)
  const body = text.slice(start, end)
  const field = new RegExp(`readonly ${r.field}([?]?):`)
  if (!field.test(body)) throw new Error(`${r.field} not found in ${r.block}`)
  return text.slice(0, start) + body.replace(field, `readonly ${r.field}Renamed$1:`) + text.slice(end)
}

function parsedConfig(configFile: string): ts.ParsedCommandLine {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(REPO_ROOT, configFile), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'))
    },
  })
  if (parsed === undefined) throw new Error(`cannot read ${configFile}`)
  return parsed
}

const parsedFiles = new Map<string, Map<string, ts.SourceFile | undefined>>()

/** The compiler's errors in `checked` with `rename` applied in memory (none applied when undefined). */
function errorsIn(configFile: string, checked: string, rename?: Rename): string[] {
  const config = parsedConfig(configFile)
  const host = ts.createCompilerHost(config.options)
  const parse = host.getSourceFile.bind(host)
  // parsed files are shared between the programs of one configuration (the .d.ts of node_modules dominate)
  const cache = parsedFiles.get(configFile) ?? new Map<string, ts.SourceFile | undefined>()
  parsedFiles.set(configFile, cache)
  host.getSourceFile = (fileName, languageVersion, ...rest) => {
    if (!cache.has(fileName)) cache.set(fileName, parse(fileName, languageVersion, ...rest))
    return cache.get(fileName)
  }
  if (rename !== undefined) {
    const target = resolve(REPO_ROOT, rename.file)
    const text = renamed(rename)
    const getSourceFile = host.getSourceFile.bind(host)
    host.getSourceFile = (fileName, languageVersion, ...rest) =>
      resolve(fileName) === target
        ? ts.createSourceFile(fileName, text, languageVersion, true)
        : getSourceFile(fileName, languageVersion, ...rest)
    const readFile = host.readFile.bind(host)
    host.readFile = (fileName) => (resolve(fileName) === target ? text : readFile(fileName))
  }
  const file = join(REPO_ROOT, checked)
  const program = ts.createProgram([file], config.options, host)
  const source = program.getSourceFile(file)
  if (source === undefined) throw new Error(`${checked} is not in the program`)
  return program.getSemanticDiagnostics(source).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
}

describe('a renamed field in an API response type fails the typecheck', () => {
  it.each<[string, Rename, string, string]>([
    [
      'a list answer (GET /agents)',
      { file: 'api/types.ts', block: 'export interface ApiAgentList {', field: 'total' },
      'tsconfig.json',
      'api/routes/read-routes.ts',
    ],
    [
      'the send answer (POST /messages/send, also the fast path)',
      { file: 'api/types.ts', block: 'export interface ApiSent {', field: 'signature' },
      'tsconfig.json',
      'api/signature-handlers.ts',
    ],
    [
      'a view the services build (a stored message)',
      { file: 'node/core/views.ts', block: 'export interface MessageView {', field: 'timestamp' },
      'tsconfig.json',
      'node/core/message-view.ts',
    ],
    [
      "an event's data (agent:rotated on the WebSocket stream)",
      { file: 'node/core/event-data.ts', block: 'export interface NodeEventData {', field: 'publicKey' },
      'tsconfig.json',
      'node/services/ingest-events.ts',
    ],
    [
      "an event's data the dashboard reads (connection:established)",
      { file: 'node/core/event-data.ts', block: 'export interface NodeEventData {', field: 'fromDid' },
      'ui/tsconfig.json',
      'ui/src/state.ts',
    ],
    [
      'a field the dashboard reads (an agent record)',
      { file: 'node/core/views.ts', block: 'export interface AgentRecord {', field: 'trustScore' },
      'ui/tsconfig.json',
      'ui/src/graph-nodes.ts',
    ],
  ])('%s', { timeout: 180_000 }, (_what, rename, config, checked) => {
    expect(errorsIn(config, checked)).toEqual([])
    const errors = errorsIn(config, checked, rename)
    expect(errors.length).toBeGreaterThan(0)
    expect(errors.join('\n')).toMatch(new RegExp(`'${rename.field}'|${rename.field}Renamed`))
  })
})
