/**
 * Another local OS user for attack tests (review 115): when the test runs as
 * root, `runuser -u nobody --` runs a program as uid `nobody`; otherwise there
 * is no second user and the tests that need one skip (`OTHER_USER_SKIP`).
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions, type SpawnSyncReturns } from 'node:child_process'

const asRoot = process.getuid?.() === 0

/** Why a test that needs a second OS user cannot run here, or undefined when it can. */
export const OTHER_USER_SKIP: string | undefined = asRoot ? undefined : 'needs root (runuser -u nobody)'

/** The prefix that runs a command as `nobody`, or none when this process is not root (same user). */
function prefix(): string[] {
  return asRoot ? ['runuser', '-u', 'nobody', '--'] : []
}

/** Start `command args` as the other user (as this user when not root). */
export function spawnAsOther(command: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
  const [head, ...rest] = [...prefix(), command, ...args]
  return spawn(head ?? command, rest, opts)
}

/** Run `command args` to its end as the other user (as this user when not root). */
export function runAsOther(command: string, args: readonly string[]): SpawnSyncReturns<string> {
  const [head, ...rest] = [...prefix(), command, ...args]
  return spawnSync(head ?? command, rest, { encoding: 'utf8' })
}
