/**
 * The CLI runner: builds the cac program from the commands it is given,
 * parses argv, runs the matched command and prints through `output.ts`,
 * returning the exit code. `app.ts` runs it with every command; `main.ts`
 * gives `meshsig start` only its own command, so the node's API port is
 * bound without loading the other commands first (issue 13).
 */
import { cac, type CAC } from 'cac'
import { MeshsigError } from '../node/core/errors.js'
import { HOME_ENV } from '../node/identity/home.js'
import { DEFAULT_SERVER, SERVER_ENV, cliRuntime, type CliIo, type CliRuntime } from './context.js'
import { prepareArgv, unwrapOptions, unwrapValue } from './argv.js'
import { printError, printResult, type CommandResult } from './output.js'
import { packageVersion } from './version.js'

/** Registers commands on the program. */
export type RegisterCommands = (cli: CAC, rt: CliRuntime) => void

/** Build the cac program with global options and the commands `register` adds. */
export function buildCliWith(rt: CliRuntime, register: RegisterCommands): CAC {
  const cli = cac('meshsig')
  cli.option('--json', 'Print one JSON object (errors as {error, code})')
  cli.option('--server <url>', `Node URL for online commands (env ${SERVER_ENV}, default ${DEFAULT_SERVER})`)
  cli.option('--home <dir>', `meshsig home folder (env ${HOME_ENV}, default ~/.meshsig)`)
  register(cli, rt)
  cli.help()
  cli.version(packageVersion())
  return cli
}

function parse(cli: CAC, argv: readonly string[]): void {
  const { parse: tokens, trailing } = prepareArgv(argv)
  cli.parse(tokens, { run: false })
  cli.args = [...cli.args.map((a) => String(unwrapValue(a))), ...trailing]
  cli.options = unwrapOptions(cli.options)
}

function noCommand(cli: CAC, json: boolean): number {
  const name = cli.args[0]
  if (name !== undefined) {
    throw new MeshsigError('INVALID_INPUT', `unknown command '${name}'; run meshsig --help for the list`)
  }
  if (json) throw new MeshsigError('INVALID_INPUT', 'no command given; run meshsig --help for the list')
  cli.outputHelp()
  return 2
}

/** Run the CLI with the commands of `register` on `argv` (`node`, script, then arguments); returns the exit code. */
export async function runCliWith(argv: readonly string[], io: CliIo, register: RegisterCommands): Promise<number> {
  const cli = buildCliWith(cliRuntime(io), register)
  let json = argv.includes('--json')
  try {
    parse(cli, argv)
    json = cli.options.json === true
    if (cli.options.help === true) return 0
    if (cli.options.version === true && cli.matchedCommand === undefined) return 0
    if (cli.matchedCommand === undefined) return noCommand(cli, json)
    const result = (await cli.runMatchedCommand()) as CommandResult
    return printResult(io, json, result)
  } catch (err) {
    return printError(io, json, err)
  }
}
