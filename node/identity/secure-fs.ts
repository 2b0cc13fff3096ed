/**
 * Private files: a 0700 folder, 0600 files written atomically (temp file,
 * fsync, rename), and reads that refuse a key file other users could open,
 * or that another user owns (decision 0083).
 */
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { randomBytes } from 'node:crypto'
import { basename, dirname, join } from 'node:path'
import { MeshsigError } from '../core/errors.js'

/** Mode of the meshsig home folder. */
export const PRIVATE_DIR_MODE = 0o700
/** Mode of every file holding a secret. */
export const PRIVATE_FILE_MODE = 0o600

const CHECK_MODES = process.platform !== 'win32'

function octal(mode: number): string {
  return '0' + (mode & 0o777).toString(8)
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? (err as NodeJS.ErrnoException).code : undefined
}

/**
 * Refuse `path` with `INSECURE_KEY_FILE` when `uid` owns it and is neither
 * this process's effective user nor root (as OpenSSH's StrictModes): its
 * owner could replace the secret, or read what the node writes (review 115).
 */
function refuseForeignOwner(path: string, what: string, uid: number): void {
  const me = process.geteuid?.()
  if (me === undefined || uid === me || uid === 0) return
  throw new MeshsigError(
    'INSECURE_KEY_FILE',
    `${what} ${path} is owned by another user (uid ${uid}; this node runs as uid ${me}); ` +
      `remove it (rm -r ${path}) and run again, or if it is yours: chown -R ${me} ${path}`,
    { path, owner: uid },
  )
}

/** Refuse `path` when it is a symbolic link another user owns (lstat: the link itself, not its target). */
function refuseForeignLink(path: string, what: string): void {
  const link = lstatSync(path)
  if (link.isSymbolicLink()) refuseForeignOwner(path, `${what} (a symbolic link)`, link.uid)
}

/**
 * Create `dir` (and parents) with mode 0700. An existing folder that other
 * users can enter, that another user owns, or that is a symbolic link another
 * user owns, is refused with `INSECURE_KEY_FILE` and how to fix it.
 */
export function ensurePrivateDir(dir: string): void {
  const created = mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE })
  if (CHECK_MODES) refuseForeignLink(dir, 'folder')
  const st = statSync(dir)
  if (!st.isDirectory()) throw new MeshsigError('INVALID_INPUT', `${dir} is not a folder`, { path: dir })
  if (!CHECK_MODES) return
  if (created !== undefined) {
    // mkdir applies the umask; make the mode exact on the folder we made.
    chmodSync(dir, PRIVATE_DIR_MODE)
    return
  }
  refuseForeignOwner(dir, 'folder', st.uid)
  if ((st.mode & 0o077) !== 0) {
    throw new MeshsigError(
      'INSECURE_KEY_FILE',
      `folder ${dir} is open to other users (mode ${octal(st.mode)}); fix it with: chmod 700 ${dir}`,
      { path: dir, mode: octal(st.mode) },
    )
  }
}

/** Options of `writeFileAtomic`. */
export interface WriteOptions {
  /** File mode (default 0600). */
  readonly mode?: number
  /** Replace an existing file (default true). When false, an existing file gives `ALREADY_EXISTS`. */
  readonly overwrite?: boolean
}

/**
 * Write `data` to `path` atomically: a temp file in the same folder with the
 * final mode from the start, fsync, then rename (or link, when not
 * overwriting, so an existing file is never clobbered).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, opts: WriteOptions = {}): void {
  const mode = opts.mode ?? PRIVATE_FILE_MODE
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
  const fd = openSync(tmp, 'wx', mode)
  try {
    if (CHECK_MODES) fchmodSync(fd, mode)
    writeFileSync(fd, data)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  try {
    if (opts.overwrite ?? true) renameSync(tmp, path)
    else linkNoClobber(tmp, path)
  } finally {
    rmSync(tmp, { force: true })
  }
  syncDir(dirname(path))
}

/** A temp file `writeFileAtomic` (or the proxy state's write) makes: `.<name>.<pid>.<12 hex>.tmp`. */
const TEMP_FILE = /^\..+\.(\d+)\.[0-9a-f]{12}\.tmp$/

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return errnoCode(err) !== 'ESRCH' // EPERM: alive, another user's
  }
}

/**
 * Remove the temp files a process killed mid-write left in `dir` (attack
 * review H2 F4): they may hold a copy of a key (a log key, an identity) that
 * nothing would ever remove. Only those whose writer is no longer running;
 * returns the names removed.
 */
export function removeCrashLeftovers(dir: string): string[] {
  const removed: string[] = []
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return removed
  }
  for (const name of names) {
    const pid = TEMP_FILE.exec(name)?.[1]
    if (pid === undefined || Number(pid) === process.pid || processAlive(Number(pid))) continue
    try {
      if (!lstatSync(join(dir, name)).isFile()) continue // a folder or a link named so is not a writer's (review H7 F4)
      unlinkSync(join(dir, name))
      removed.push(name)
    } catch {
      // gone meanwhile, or not ours to remove: a leftover is not worth failing a start for
    }
  }
  return removed
}

function linkNoClobber(tmp: string, path: string): void {
  try {
    linkSync(tmp, path)
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') throw new MeshsigError('ALREADY_EXISTS', `${path} already exists`, { path })
    throw err
  }
  unlinkSync(tmp)
}

function syncDir(dir: string): void {
  if (!CHECK_MODES) return
  try {
    const fd = openSync(dir, 'r')
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  } catch {
    // Some file systems cannot fsync a folder; the rename is still atomic.
  }
}

/**
 * Opened without blocking: opening a FIFO (or a device) for reading waits for
 * a writer, so a key file naming one would hang the command for ever before
 * its type is checked. A regular file reads the same either way. Symbolic
 * links are followed (a mounted secret is often one); the mode and owner
 * checked are the target's, from the open file, and the link's own owner is
 * checked too (a link another user planted is refused).
 */
const READ_NONBLOCKING = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)

/**
 * Read a file that holds a secret. Returns undefined when it does not exist;
 * throws `MALFORMED` when it is no regular file (a FIFO, device or folder: it
 * is opened without blocking and refused before any read) and
 * `INSECURE_KEY_FILE` when group or others have any access to it (with the
 * `chmod 600` fix) or another user owns it or the link to it. Type, mode,
 * owner and content come from the same open file.
 */
export function readPrivateFile(path: string, what = 'key file'): string | undefined {
  let fd: number
  try {
    if (CHECK_MODES) refuseForeignLink(path, what)
    fd = openSync(path, READ_NONBLOCKING)
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined
    throw err
  }
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) throw new MeshsigError('MALFORMED', `${what} ${path} is not a regular file`, { path })
    if (CHECK_MODES) refuseForeignOwner(path, what, st.uid)
    if (CHECK_MODES && (st.mode & 0o077) !== 0) {
      throw new MeshsigError(
        'INSECURE_KEY_FILE',
        `${what} ${path} is readable by other users (mode ${octal(st.mode)}); fix it with: chmod 600 ${path}`,
        { path, mode: octal(st.mode) },
      )
    }
    return readFileSync(fd, 'utf8')
  } finally {
    closeSync(fd)
  }
}

/**
 * The one-line secret in a private file (`readPrivateFile`), trimmed, or
 * undefined when there is none; throws `MALFORMED` naming the file when the
 * line does not match `pattern`.
 */
export function readSecretLine(path: string, what: string, pattern: RegExp): string | undefined {
  const text = readPrivateFile(path, what)
  if (text === undefined) return undefined
  const line = text.trim()
  if (!pattern.test(line)) throw new MeshsigError('MALFORMED', `${what} ${path} is corrupt`, { path })
  return line
}

/** Write a one-line secret to `path` in the private folder `home` (0600 in 0700), atomically. */
export function writeSecretLine(home: string, path: string, line: string, overwrite: boolean): void {
  ensurePrivateDir(home)
  writeFileAtomic(path, line + '\n', { overwrite })
}
