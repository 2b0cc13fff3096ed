/** `CliIo` over the real process: stdout, stderr, stdin, env and clock. */
import type { CliIo } from './context.js'

async function readAll(stream: NodeJS.ReadStream): Promise<Uint8Array> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk)
  return new Uint8Array(Buffer.concat(chunks))
}

/** True once the command serves until stopped (`CliIo.serving`): its output streams failing does not end it. */
let serving = false

/**
 * End quietly when the reader of `stream` goes away (`meshsig audit --ndjson
 * | head`): as a Unix tool does on SIGPIPE, with no stack trace; the output
 * was the reader's to stop. A serving command (`meshsig start`) goes on
 * serving instead, whatever its log stream does (review 107: its log reader
 * leaving stopped the node with exit 0). Any other write error of a one-shot
 * command is thrown on.
 */
function quietOnBrokenPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (serving) return
    if (err.code !== 'EPIPE') throw err
    process.exit(process.exitCode ?? 0)
  })
}

/** The process's own io. */
export function processIo(): CliIo {
  quietOnBrokenPipe(process.stdout)
  quietOnBrokenPipe(process.stderr)
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    readStdin: async () => {
      if (process.stdin.isTTY) process.stderr.write('Reading the message from stdin; end it with Ctrl-D.\n')
      return readAll(process.stdin)
    },
    stdinChunks: () => process.stdin,
    env: process.env,
    now: () => Date.now(),
    stderrIsTTY: process.stderr.isTTY === true,
    serving: () => {
      serving = true
    },
  }
}
