/**
 * The node's store, opened with the custody key of its home (docs/protocol.md
 * §2, "Custodied keys"; decision 0011): `$MESHSIG_HOME/custody.key` seals the
 * seeds of custodied agents in the database and stays out of it.
 */
import { rmSync } from 'node:fs'
import { isMeshsigError, MeshsigError } from './core/index.js'
import { createCustodyKey, custodyKeyPath, readCustodyKey, removeCrashLeftovers } from './identity/index.js'
import { openStore, type Store } from './store/index.js'

/** Where a node's database is and where its custody key comes from. */
export interface NodeStoreInit {
  /** SQLite file, or ':memory:'. */
  readonly dbPath: string
  /** The meshsig home holding `custody.key`. */
  readonly home?: string
  /** A custody key given directly (wins over the home's file). */
  readonly custodyKey?: Uint8Array
}

/**
 * Open the node's store. The custody key is, in order: the one given, the
 * home's `custody.key`, or (no file yet) a new one written there first. A
 * database whose custodied seeds the key does not open is refused with
 * `KEY_MISMATCH`, never opened with its agents lost; when the key file was
 * missing, the key made here is removed again and the error says so.
 * In-memory stores and nodes without a home use a random key of the process.
 */
export function openNodeStore(init: NodeStoreInit): Store {
  const store = openWithCustodyKey(init)
  // the store holds the home's node lock now: what a killed writer left there goes (attack review H2 F4)
  if (init.home !== undefined) removeCrashLeftovers(init.home)
  return store
}

function openWithCustodyKey(init: NodeStoreInit): Store {
  const path = init.dbPath
  if (init.custodyKey !== undefined) return openStore({ path, custodyKey: init.custodyKey })
  if (init.home === undefined) return openStore({ path })
  if (path === ':memory:') return openStore({ path, home: init.home }) // its custody key dies with the process
  const keyPath = custodyKeyPath(init.home)
  const home = init.home
  const existing = readCustodyKey(home)
  if (existing !== undefined) return openStore({ path, custodyKey: existing, custodyKeySource: keyPath, home })
  const made = createCustodyKey(home)
  try {
    return openStore({ path, custodyKey: made, custodyKeySource: keyPath, home })
  } catch (err) {
    if (!isMeshsigError(err) || err.code !== 'KEY_MISMATCH') throw err
    rmSync(keyPath, { force: true })
    throw new MeshsigError(
      'KEY_MISMATCH',
      `${path} holds custodied agent keys but the custody key ${keyPath} is missing: restore that file (mode 0600) from where it was kept`,
      { path, custodyKey: keyPath },
    )
  }
}
