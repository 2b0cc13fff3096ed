/**
 * The database and the files SQLite makes beside it are never visible with a
 * mode other than 0600, not even for an instant: two threads watch a 0755
 * folder while `openStore` creates and uses the database, one with fs.watch
 * (a stat on every event), one with a tight stat loop.
 */
import { randomBytes } from 'node:crypto'
import { chmodSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { generateKeyPair, toB64 } from '../../../node/core/index.js'
import { openStore } from '../../../node/store/index.js'
import { tempDir } from '../../helpers/mesh.js'

const SUFFIXES = ['', '-wal', '-shm', '-journal']
/** Databases made one after another: each creation is one more chance to catch a wrong mode. */
const ROUNDS = 12

/**
 * Both watchers: report `{ modes: {file: [mode, …]}, stats }` when `flag[0]`
 * flips; the loop stats the files of database `flag[1]`, the watcher any
 * file fs.watch names.
 */
const WATCHER = `
const { parentPort, workerData } = require('node:worker_threads')
const fs = require('node:fs')
const { dir, suffixes, shared, mode } = workerData
const flag = new Int32Array(shared)
const modes = {}
let stats = 0
function look(name) {
  const st = fs.statSync(dir + '/' + name, { throwIfNoEntry: false })
  stats++
  if (st === undefined) return
  const m = st.mode & 0o777
  const seen = (modes[name] ??= [])
  if (seen[seen.length - 1] !== m) seen.push(m)
}
function report() { parentPort.postMessage({ modes, stats }) }
if (mode === 'loop') {
  parentPort.postMessage('ready')
  while (Atomics.load(flag, 0) === 0) {
    const base = 'meshsig-' + Atomics.load(flag, 1) + '.db'
    for (const s of suffixes) look(base + s)
  }
  report()
} else {
  const watcher = fs.watch(dir, (_event, name) => { if (name && name.startsWith('meshsig-')) look(name) })
  parentPort.postMessage('ready')
  const timer = setInterval(() => {
    if (Atomics.load(flag, 0) === 0) return
    clearInterval(timer)
    watcher.close()
    report()
  }, 5)
}
`

interface Seen {
  readonly modes: Record<string, number[]>
  readonly stats: number
}

function watcher(dir: string, shared: SharedArrayBuffer, mode: 'loop' | 'watch') {
  const worker = new Worker(WATCHER, { eval: true, workerData: { dir, suffixes: SUFFIXES, shared, mode } })
  const ready = new Promise<void>((resolve) => worker.once('message', () => resolve()))
  const result = ready.then(
    () =>
      new Promise<Seen>((resolve, reject) => {
        worker.once('message', (m: Seen) => resolve(m))
        worker.once('error', reject)
      }),
  )
  return { ready, result, worker }
}

/** Create database `i` with some custody rows, keep it open a moment (-wal, -shm), close it. */
async function useDatabase(dir: string, i: number): Promise<void> {
  const store = openStore({ path: `${dir}/meshsig-${i}.db`, custodyKey: new Uint8Array(randomBytes(32)) })
  for (let n = 0; n < 5; n++) {
    const seed = toB64(generateKeyPair().seed)
    store.custody.put({ did: `did:msig:a${n}`, seed, nextSeed: seed, createdAt: n })
  }
  await new Promise((r) => setTimeout(r, 30))
  store.close()
}

const cleanups: (() => void)[] = []
afterEach(() => {
  while (cleanups.length) cleanups.pop()!()
})

describe('the database file is created with its final mode', () => {
  it('db, -wal and -shm are 0600 from the first stat, in a 0755 folder, watched by fs.watch and a stat loop', async () => {
    const { dir, cleanup } = tempDir('meshsig-mode-')
    cleanups.push(cleanup)
    chmodSync(dir, 0o755)
    const shared = new SharedArrayBuffer(8)
    const flag = new Int32Array(shared)
    const watchers = [watcher(dir, shared, 'loop'), watcher(dir, shared, 'watch')]
    cleanups.push(() => watchers.forEach((w) => void w.worker.terminate()))
    await Promise.all(watchers.map((w) => w.ready))
    for (let i = 0; i < ROUNDS; i++) {
      Atomics.store(flag, 1, i)
      await new Promise((r) => setTimeout(r, 5)) // the loop now stats database i
      await useDatabase(dir, i)
    }
    await new Promise((r) => setTimeout(r, 50))
    Atomics.store(flag, 0, 1)
    const [loop, watch] = await Promise.all(watchers.map((w) => w.result))

    expect(loop!.stats).toBeGreaterThan(1000)
    for (const seen of [loop!, watch!]) {
      for (const [name, modes] of Object.entries(seen.modes)) {
        expect(
          modes.map((m) => m.toString(8)),
          `modes of ${name}`,
        ).toEqual(['600'])
      }
    }
    // the loop saw every file SQLite keeps in WAL mode while a store was open
    const files = Object.keys(loop!.modes)
    for (const suffix of ['.db', '.db-wal', '.db-shm']) expect(files.some((f) => f.endsWith(suffix))).toBe(true)
  })
})
