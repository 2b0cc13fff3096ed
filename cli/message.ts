/**
 * Message arguments of `sign` and `verify`: the text as UTF-8, or with "-"
 * the exact bytes of standard input (a trailing newline is part of them).
 */
import { utf8 } from '../node/core/encoding.js'
import type { CliIo } from './context.js'

/** The argument that means "read the message from stdin". */
export const STDIN_ARG = '-'

/** Bytes of a message argument. */
export async function messageBytes(arg: string, io: CliIo): Promise<Uint8Array> {
  return arg === STDIN_ARG ? io.readStdin() : utf8(arg)
}
