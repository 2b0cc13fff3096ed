/**
 * The streamed audit export on the CLI side (docs/audit.md): `meshsig audit
 * --ndjson [--out FILE]` copies `GET /audit/export?format=ndjson` to a file
 * or stdout as it arrives, and `meshsig audit verify FILE` reads an NDJSON
 * export line by line, in memory that does not grow with the file.
 */
import { closeSync, constants, createReadStream, createWriteStream, openSync, readSync } from 'node:fs'
import { once } from 'node:events'
import type { Writable } from 'node:stream'
import { StringDecoder } from 'node:string_decoder'
import { NdjsonExportCheck, isNdjsonExport } from '../../node/audit/export-stream-check.js'
import type { ExportCheck } from '../../node/audit/export-check.js'
import { MeshsigError } from '../../node/core/errors.js'
import type { CliContext } from '../context.js'
import { fetchNdjson } from './ndjson-fetch.js'

/** Lines between two progress reports. */
const PROGRESS_EVERY = 10_000
/**
 * Bytes per read of an export file. Small on purpose: each line is a slice of
 * the chunk it came in, and V8 sizes its heap by those chunks — 1 MB reads
 * peaked at 148 MB RSS on a 500 000-entry file, 64 KB reads at 93 MB
 * (docs/benchmarks.md, audit-stream).
 */
const READ_BYTES = 64 * 1024
/** Bytes that identify the form of an export (its first line starts with the format). */
const SNIFF_BYTES = 256

/** Chunks of an input: a file or stdin stream, as bytes or text. */
export type Chunks = AsyncIterable<Uint8Array | string>

/** True when the file at `path` starts like an NDJSON audit export. */
export function fileIsNdjson(path: string): boolean {
  const fd = openSync(path, 'r')
  try {
    const head = Buffer.alloc(256)
    const n = readSync(fd, head, 0, head.length, 0)
    return isNdjsonExport(head.subarray(0, n).toString('utf8'))
  } finally {
    closeSync(fd)
  }
}

/** Which lines `eachLine` hands over, and how long one may be. */
export interface LineChoice {
  /**
   * Whether a line is wanted, told from its first `WANT_PREFIX` characters
   * (all of it when shorter): an unwanted line is dropped as it comes, never
   * held. Default: every line.
   */
  readonly wanted?: (start: string) => boolean
  /** Most characters of a wanted line; past it `MALFORMED`. Default: no bound. */
  readonly maxLength?: number
  /** Most characters of a wanted line told from its start (as `wanted`), in place of `maxLength`. */
  readonly maxLengthOf?: (start: string) => number
}

/** Characters of a line's start that `LineChoice.wanted` is shown. */
export const WANT_PREFIX = 32

/** The line being read: its pieces so far, and whether it is wanted (undefined: not known yet). */
class LineSoFar {
  pieces: string[] = []
  length = 0
  wanted: boolean | undefined
  limit: number

  constructor(private readonly choice: LineChoice) {
    if (choice.wanted === undefined) this.wanted = true
    this.limit = choice.maxLength ?? Infinity
  }

  /** Add a piece of the line; `ended`: its newline came after it. */
  add(piece: string, ended: boolean): void {
    if (this.wanted === false) return
    this.pieces.push(piece)
    this.length += piece.length
    if (this.wanted === undefined && (this.length >= WANT_PREFIX || ended)) {
      const start = this.pieces.join('').slice(0, WANT_PREFIX)
      this.wanted = this.choice.wanted!(start)
      if (!this.wanted) this.pieces = []
      else if (this.choice.maxLengthOf !== undefined) this.limit = this.choice.maxLengthOf(start)
    }
    if (this.wanted === true && this.length > this.limit) {
      throw new MeshsigError('MALFORMED', `a line of the export is longer than ${this.limit} characters`)
    }
  }

  /** The whole line when it is wanted, and a fresh line to read next. */
  take(): string | undefined {
    const line = this.wanted === false ? undefined : this.pieces.join('')
    this.pieces = []
    this.length = 0
    this.wanted = this.choice.wanted === undefined ? true : undefined
    this.limit = this.choice.maxLength ?? Infinity
    return line
  }
}

/**
 * Call `onLine` with each line of `input` (without its newline), holding one
 * chunk at a time. A line longer than a chunk is kept as pieces and joined
 * once at its newline: linear in its length (the trailer lists every agent),
 * where searching the joined text again on every chunk was quadratic.
 * `choice` leaves out lines by their start (unheld) and bounds the others.
 */
export async function eachLine(input: Chunks, onLine: (line: string) => void, choice: LineChoice = {}): Promise<void> {
  const utf8 = new StringDecoder('utf8') // a character split across two chunks stays whole
  const line = new LineSoFar(choice)
  const emit = (): void => {
    const text = line.take()
    if (text !== undefined) onLine(text)
  }
  for await (const chunk of input) {
    const text = typeof chunk === 'string' ? chunk : utf8.write(Buffer.from(chunk))
    let start = 0
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      line.add(text.slice(start, nl), true)
      emit()
      start = nl + 1
    }
    if (start < text.length) line.add(text.slice(start), false)
  }
  const rest = utf8.end()
  if (rest !== '') line.add(rest, true)
  if (line.length > 0) emit()
}

/** What verifying an NDJSON export found, and its header (note, keys) for the witness check. */
export interface NdjsonVerification {
  readonly check: ExportCheck
  readonly header: Record<string, unknown> | null
}

/** Verify the NDJSON export in `input` (a file stream, or text already read). */
export async function verifyNdjson(
  input: Chunks | string,
  onProgress: (done: number, total: number) => void,
  legacyTrust = false,
): Promise<NdjsonVerification> {
  const checker = new NdjsonExportCheck({ legacyTrust })
  let lines = 0
  const onLine = (line: string): void => {
    checker.line(line)
    // the header's size is the file's claim, not checked here: a number or nothing (review 128 F1)
    const size = checker.header?.size
    if (++lines % PROGRESS_EVERY === 0) onProgress(checker.entries, typeof size === 'number' ? size : 0)
  }
  if (typeof input === 'string') input.split('\n').forEach(onLine)
  else await eachLine(input, onLine)
  const check = checker.finish()
  onProgress(check.log.size, check.log.size)
  return { check, header: checker.header }
}

/** Verify the NDJSON export file at `path`, streaming. */
export function verifyNdjsonFile(
  path: string,
  onProgress: (done: number, total: number) => void,
  legacyTrust = false,
): Promise<NdjsonVerification> {
  return verifyNdjson(createReadStream(path, { highWaterMark: READ_BYTES }), onProgress, legacyTrust)
}

/** What `sniffStdin` found: an NDJSON export to stream, or the whole text of anything else. */
export type StdinExport = { readonly ndjson: Chunks } | { readonly text: string }

/**
 * Read the start of `input` (stdin) to tell the export's form: an NDJSON
 * export comes back as a stream (the bytes read so far first), so it is
 * verified in constant memory like a file; a JSON export is read whole.
 */
export async function sniffStdin(input: Chunks): Promise<StdinExport> {
  const it = input[Symbol.asyncIterator]()
  const head: Buffer[] = []
  let bytes = 0
  let done = false
  while (bytes < SNIFF_BYTES && !done) {
    const next = await it.next()
    if (next.done === true) done = true
    else head.push(Buffer.from(next.value))
    bytes += next.done === true ? 0 : (head[head.length - 1]?.length ?? 0)
  }
  const start = Buffer.concat(head)
  if (isNdjsonExport(start.subarray(0, SNIFF_BYTES).toString('utf8'))) {
    return { ndjson: replay(start, done ? null : it) }
  }
  const all = [start]
  for (let next = done ? null : await it.next(); next !== null && next.done !== true; next = await it.next()) {
    all.push(Buffer.from(next.value))
  }
  return { text: Buffer.concat(all).toString('utf8') }
}

async function* replay(first: Buffer, rest: AsyncIterator<Uint8Array | string> | null): AsyncGenerator<Buffer> {
  yield first
  if (rest === null) return
  for (let next = await rest.next(); next.done !== true; next = await rest.next()) yield Buffer.from(next.value)
}

/** Open `path` for writing (created 0600, truncated); a symlink there is refused (INVALID_INPUT), not followed. */
export function openOut(path: string): number {
  try {
    return openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600)
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ELOOP' ? 'it is a symbolic link' : (err as Error).message
    throw new MeshsigError('INVALID_INPUT', `cannot write ${path}: ${why}`, { field: 'out' })
  }
}

/**
 * Copy the node's NDJSON export to `out` (a file) or stdout; returns the
 * bytes written. No deadline on the whole: an honest export of millions of
 * entries takes minutes, and a person watches it; one that stops coming is
 * given up (`fetchNdjson`).
 */
export async function downloadNdjson(ctx: CliContext, opts: { out?: string; size?: number }): Promise<number> {
  const body = await fetchNdjson(ctx, opts.size)
  // a symlink planted at FILE (another local user's, in a shared folder) is refused, not followed
  const sink: Writable | null = opts.out === undefined ? null : createWriteStream('', { fd: openOut(opts.out) })
  let bytes = 0
  const decoder = new TextDecoder()
  for await (const chunk of body) {
    bytes += chunk.length
    if (sink === null) ctx.io.stdout(decoder.decode(chunk, { stream: true }))
    else if (!sink.write(chunk)) await once(sink, 'drain')
  }
  if (sink !== null) {
    sink.end()
    await once(sink, 'finish')
  }
  return bytes
}
