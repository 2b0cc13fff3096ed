/**
 * The schema migrations that must compute (migrations.ts lists them in
 * order): each runs in its migration's transaction.
 */
import type { Database } from 'better-sqlite3'
import type { CustodyField } from './custody-cipher.js'

/** What a migration function may use besides the database. */
export interface MigrationContext {
  /** Seal a b64 seed of `did` under the custody key (custody-cipher.ts). */
  sealSeed(did: string, field: CustodyField, seedB64: string): Buffer
}

/**
 * 6: custodied seeds sealed at rest (docs/protocol.md §2, decision 0011). The
 * plaintext table is replaced by one of sealed BLOBs; the caller runs this
 * with `secure_delete` on and truncates the WAL afterwards, so no page of
 * the file keeps the old plaintext.
 */
export function sealCustody(db: Database, ctx: MigrationContext): void {
  db.exec(`
  CREATE TABLE custody_sealed (
    did TEXT PRIMARY KEY,
    seed BLOB NOT NULL,
    next_seed BLOB,
    created_at INTEGER NOT NULL
  )`)
  const rows = db.prepare('SELECT did, seed, next_seed, created_at FROM custody').all() as {
    did: string
    seed: string
    next_seed: string | null
    created_at: number
  }[]
  const insert = db.prepare('INSERT INTO custody_sealed (did, seed, next_seed, created_at) VALUES (?, ?, ?, ?)')
  for (const r of rows) {
    const next = r.next_seed === null ? null : ctx.sealSeed(r.did, 'next_seed', r.next_seed)
    insert.run(r.did, ctx.sealSeed(r.did, 'seed', r.seed), next, r.created_at)
  }
  db.exec('DELETE FROM custody; DROP TABLE custody; ALTER TABLE custody_sealed RENAME TO custody')
}

/**
 * 11: a revocation by a DID's controller is not one of the DID's own events (docs/protocol.md §6, decision
 * 0044): it may name the seq of one (a rotation raced it), so the key is (did, seq, type); a state it revoked
 * points back at the DID's last own event; and a rotation that arrived after it is no duplicity.
 */
export function controllerRevocationsBeside(db: Database): void {
  db.exec(`
  CREATE TABLE key_events_typed (
    did TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL CHECK (type IN ('icp', 'rot', 'rev')),
    envelope TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (did, seq, type)
  );
  INSERT INTO key_events_typed SELECT did, seq, id, type, envelope, received_at FROM key_events;
  DROP TABLE key_events;
  ALTER TABLE key_events_typed RENAME TO key_events;
  `)
  const revoked = db.prepare('SELECT did, state FROM key_states WHERE revoked = 1').all() as {
    did: string
    state: string
  }[]
  const head = db.prepare("SELECT seq, id FROM key_events WHERE did = ? AND type != 'rev' ORDER BY seq DESC LIMIT 1")
  const put = db.prepare('UPDATE key_states SET state = ? WHERE did = ?')
  for (const r of revoked) {
    const state = JSON.parse(r.state) as { seq: number; lastId: string; revoked: { by?: string } | null }
    const own = head.get(r.did) as { seq: number; id: string } | undefined
    if (state.revoked?.by !== 'controller' || own === undefined) continue
    put.run(JSON.stringify({ ...state, seq: own.seq, lastId: own.id }), r.did)
  }
  // a rotation that arrived after its controller's revocation was recorded as the DID's duplicity: it was not
  db.exec(`
  CREATE INDEX duplicity_did_seq ON duplicity (did, seq);
  DELETE FROM duplicity WHERE existing_id IN (
    SELECT e.id FROM key_events e JOIN key_states s ON s.did = e.did
    WHERE e.type = 'rev' AND json_extract(s.state, '$.revoked.by') = 'controller'
  )`)
}
