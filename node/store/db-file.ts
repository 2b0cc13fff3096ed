/**
 * The database file on disk: created with its final mode before SQLite
 * opens it, so that no other process ever sees it with a wider one
 * (`new Database(path)` alone creates it 0644 and a later chmod leaves a
 * window). SQLite creates -wal, -shm and -journal with the mode of the
 * database file, so they are 0600 from their first byte too.
 */
import { chmodSync, closeSync, existsSync, fchmodSync, lstatSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'

/** Mode of the database file and of the files SQLite makes beside it. */
export const DB_FILE_MODE = 0o600

const CHECK_MODES = process.platform !== 'win32'

/** The files SQLite keeps beside a database in WAL mode. */
export const SIDE_FILES: readonly string[] = ['-wal', '-shm']

/**
 * Make `path` exist with mode 0600 (its folder 0700 when made here). An
 * existing file, and existing -wal/-shm files left by an older version, are
 * narrowed to 0600; their mode is never widened.
 */
export function createPrivateDbFile(path: string): void {
  const dir = dirname(path)
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 })
  // O_CREAT with mode 0600: the file is born private (the umask can only narrow it; fchmod makes it exact)
  const fd = openSync(path, 'a', DB_FILE_MODE)
  try {
    if (CHECK_MODES) fchmodSync(fd, DB_FILE_MODE)
  } finally {
    closeSync(fd)
  }
  if (!CHECK_MODES) return
  for (const suffix of SIDE_FILES) {
    const side = path + suffix
    if (existsSync(side) && lstatSync(side).isFile() && (lstatSync(side).mode & 0o077) !== 0) {
      chmodSync(side, DB_FILE_MODE)
    }
  }
}
