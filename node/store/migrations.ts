/**
 * Numbered schema migrations. Each runs once, in its own transaction, and
 * `PRAGMA user_version` records how far a database has come. Most are SQL;
 * the two that must compute are functions (migration-functions.ts).
 */
import type { Database } from 'better-sqlite3'
import { controllerRevocationsBeside, sealCustody, type MigrationContext } from './migration-functions.js'

export type { MigrationContext } from './migration-functions.js'

/** One migration: SQL, or a function run in the migration's transaction. */
export type Migration = string | ((db: Database, ctx: MigrationContext) => void)

/** The migrations, in order; index + 1 is the schema version. */
export const MIGRATIONS: readonly Migration[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  CREATE TABLE agents (
    did TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    capabilities TEXT NOT NULL,
    controller TEXT NOT NULL,
    peer_id TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('local', 'remote')),
    reg_id TEXT NOT NULL,
    reg_envelope TEXT NOT NULL,
    reg_ts INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    messages_sent INTEGER NOT NULL DEFAULT 0,
    messages_received INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX agents_controller ON agents (controller);

  CREATE TABLE agent_capabilities (
    did TEXT NOT NULL REFERENCES agents (did) ON DELETE CASCADE,
    type TEXT NOT NULL,
    confidence REAL,
    PRIMARY KEY (did, type)
  ) WITHOUT ROWID;
  CREATE INDEX agent_capabilities_type ON agent_capabilities (type);

  CREATE TABLE custody (
    did TEXT PRIMARY KEY,
    seed TEXT NOT NULL,
    next_seed TEXT,
    created_at INTEGER NOT NULL
  );

  CREATE TABLE key_events (
    did TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL CHECK (type IN ('icp', 'rot', 'rev')),
    envelope TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (did, seq)
  );

  CREATE TABLE key_states (
    did TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
  );

  CREATE TABLE duplicity (
    id INTEGER PRIMARY KEY,
    did TEXT NOT NULL,
    seq INTEGER NOT NULL,
    existing_id TEXT,
    conflicting_id TEXT NOT NULL UNIQUE,
    envelope TEXT NOT NULL,
    detected_at INTEGER NOT NULL
  );

  CREATE TABLE messages (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    from_did TEXT NOT NULL,
    to_did TEXT,
    ts INTEGER NOT NULL,
    envelope TEXT NOT NULL,
    source TEXT NOT NULL,
    received_at INTEGER NOT NULL
  );
  CREATE INDEX messages_from ON messages (from_did);
  CREATE INDEX messages_to ON messages (to_did);

  CREATE TABLE replay (
    from_did TEXT NOT NULL,
    nonce TEXT NOT NULL,
    ts INTEGER NOT NULL,
    PRIMARY KEY (from_did, nonce)
  ) WITHOUT ROWID;
  CREATE INDEX replay_ts ON replay (ts);

  CREATE TABLE connections (
    id TEXT PRIMARY KEY,
    a_did TEXT NOT NULL,
    b_did TEXT NOT NULL,
    transcript TEXT NOT NULL,
    established_at INTEGER NOT NULL
  );
  CREATE INDEX connections_pair ON connections (a_did, b_did);

  CREATE TABLE audit_entries (
    idx INTEGER PRIMARY KEY,
    entry TEXT NOT NULL,
    leaf_hash BLOB NOT NULL
  );

  CREATE TABLE checkpoints (
    size INTEGER PRIMARY KEY,
    envelope TEXT NOT NULL
  );

  CREATE TABLE peer_faults (
    peer TEXT PRIMARY KEY,
    forged INTEGER NOT NULL DEFAULT 0,
    accepted INTEGER NOT NULL DEFAULT 0
  );
  `,
  // 2: trust evidence kept by the audit log, in the transaction of each entry (node/audit/trust-ledger.ts)
  `
  CREATE TABLE trust_evidence (
    scope TEXT NOT NULL CHECK (scope IN ('did', 'peer', 'pair')),
    key TEXT NOT NULL,
    successes INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, key)
  ) WITHOUT ROWID;
  `,
  // 3: checkpoints other nodes signed, kept once each (a re-delivered one is a duplicate, not a new entry)
  `
  CREATE TABLE remote_checkpoints (
    id TEXT PRIMARY KEY,
    origin TEXT NOT NULL,
    size INTEGER NOT NULL,
    root TEXT NOT NULL,
    envelope TEXT NOT NULL,
    received_at INTEGER NOT NULL
  );
  CREATE INDEX remote_checkpoints_origin ON remote_checkpoints (origin, size);
  `,
  // 4: rejected envelopes that counted against a DID, so one piece of evidence counts once
  `
  CREATE TABLE attributed_rejections (
    id TEXT PRIMARY KEY,
    did TEXT NOT NULL,
    code TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  `,
  // 5: agent credentials (docs/protocol.md §8): only their SHA-256 is kept
  `
  CREATE TABLE agent_credentials (
    hash TEXT PRIMARY KEY,
    did TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX agent_credentials_did ON agent_credentials (did);
  `,
  sealCustody,
  // 7: trust evidence under the formula of docs/protocol.md §7 (fractional credit, registration and
  // revocation facts); the evidence is rebuilt from the audit log at the next append
  `
  DROP TABLE trust_evidence;
  CREATE TABLE trust_evidence (
    scope TEXT NOT NULL CHECK (scope IN ('did', 'peer', 'pair', 'registered', 'revoked')),
    key TEXT NOT NULL,
    successes REAL NOT NULL DEFAULT 0,
    failures REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, key)
  ) WITHOUT ROWID;
  DELETE FROM meta WHERE key = 'audit.trustSize';
  `,
  // 8: message credit counted per sender and recipient ('edge', docs/protocol.md §7); rebuilt from the log
  `
  DROP TABLE trust_evidence;
  CREATE TABLE trust_evidence (
    scope TEXT NOT NULL CHECK (scope IN ('did', 'peer', 'pair', 'edge', 'registered', 'revoked')),
    key TEXT NOT NULL,
    successes REAL NOT NULL DEFAULT 0,
    failures REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, key)
  ) WITHOUT ROWID;
  DELETE FROM meta WHERE key = 'audit.trustSize';
  `,
  // 9: the durable outbox of direct messages and the receipts of both sides (docs/protocol.md §10)
  `
  CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    to_did TEXT NOT NULL,
    envelope TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'refused', 'expired')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    code TEXT,
    reason TEXT,
    receipt TEXT
  );
  CREATE INDEX outbox_due ON outbox (state, next_at);
  CREATE INDEX outbox_to ON outbox (to_did) WHERE state = 'pending';
  CREATE TABLE receipts_issued (
    msg_id TEXT PRIMARY KEY,
    receipt TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  `,
  // 10: a direct message to an agent of this node is marked delivered on its own row (docs/protocol.md §10):
  // no outbox row (a random-key insert per send, kept forever), pruned with its message. Older rows of that
  // kind (delivered, with no receipt: a remote delivery always has one) move over.
  `
  ALTER TABLE messages ADD COLUMN delivered_here INTEGER NOT NULL DEFAULT 0;
  UPDATE messages SET delivered_here = 1
    WHERE id IN (SELECT id FROM outbox WHERE state = 'delivered' AND receipt IS NULL);
  DELETE FROM outbox WHERE state = 'delivered' AND receipt IS NULL
    AND id IN (SELECT id FROM messages WHERE delivered_here = 1);
  `,
  controllerRevocationsBeside,
  // 12: each agent's renewal window (docs/protocol.md §7, "Renewals"; decision 0045), kept on its row so that
  // no DID can crowd another's count out of a bounded memory
  `
  ALTER TABLE agents ADD COLUMN renewal_start INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE agents ADD COLUMN renewals INTEGER NOT NULL DEFAULT 0;
  `,
  // 13: the controller an agent's first registration here named (docs/protocol.md §7, "Registry quota"): a
  // full node still takes that controller's key log, which no renewal can name anew (decision 0045)
  `
  ALTER TABLE agents ADD COLUMN first_controller TEXT;
  UPDATE agents SET first_controller = controller;
  `,
  // 14: whether a DID is an agent's first host, found in the index (fourth attack review of decision 0045):
  // by the controller alone, it walked every agent a renewal had moved to that controller, for each inception
  `
  CREATE INDEX agents_controller_first ON agents (controller, first_controller);
  DROP INDEX agents_controller;
  `,
  // 15: a page of the registry costs a page (decision 0046): the agents in their listing order (newest first),
  // the revoked DIDs newest revocation first, the connections newest first, so that `GET /snapshot`, the
  // stream's first event and `GET /agents?limit` read one page of each and count, not every row
  `
  CREATE INDEX agents_newest ON agents (created_at DESC, did);
  CREATE INDEX key_states_revoked ON key_states (json_extract(state, '$.revoked.ts') DESC, did) WHERE revoked = 1;
  CREATE INDEX connections_newest ON connections (established_at DESC);
  `,
  // 16: a connection earns what its messages earn (decision 0051): the evidence is rebuilt from the audit log at
  // the next append, as for 7 and 8
  `
  DELETE FROM meta WHERE key = 'audit.trustSize';
  `,
  // 17: the name and capabilities this node gave each custodied agent (decision 0057): a re-signed registration
  // (after a rotation or a node key change) names them, not those of whatever registration the registry holds now,
  // which anyone given the agent's key may have signed. Old rows take their stored registration's.
  `
  ALTER TABLE custody ADD COLUMN profile TEXT;
  UPDATE custody SET profile = (
    SELECT json_object('name', json_extract(a.reg_envelope, '$.name'),
                       'capabilities', json(json_extract(a.reg_envelope, '$.capabilities')))
    FROM agents a WHERE a.did = custody.did);
  `,
  // 18: the node's own agents, found in the index (attack review 91, decision 0060): a discovery request from a
  // peer reads its own agents of the type, however many agents of other nodes the registry holds
  `
  CREATE INDEX agents_local ON agents (did) WHERE origin = 'local';
  `,
  // 19: the revocation list in the order this node learned the revocations (docs/api.md, review 96): by their
  // signers' times, one party dating its revocations far ahead held the first pages for good, and a revocation
  // synced in with an older time fell behind a walker's cursor. Old rows keep the order they had.
  `
  ALTER TABLE key_states ADD COLUMN revoked_order INTEGER;
  UPDATE key_states SET revoked_order = r.n FROM (
    SELECT did, ROW_NUMBER() OVER (ORDER BY json_extract(state, '$.revoked.ts'), did DESC) AS n
    FROM key_states WHERE revoked = 1) AS r
  WHERE key_states.did = r.did;
  DROP INDEX key_states_revoked;
  CREATE UNIQUE INDEX key_states_revoked_order ON key_states (revoked_order) WHERE revoked = 1;
  `,
  // 20: messages counted per pair of agents and per DID, and their envelopes' bytes, as they are stored and deleted
  // (attack review 98, decision 0067): `GET /history/links` and `GET /messages?did=` read these counts, not every
  // stored message (bodies included) after each start, and the JSON audit export knows its size before it builds
  // it. A pair's `last_ts` is the latest signed time seen: a deletion leaves it.
  `
  CREATE TABLE message_pairs (
    from_did TEXT NOT NULL,
    to_did TEXT NOT NULL,
    n INTEGER NOT NULL,
    last_ts INTEGER NOT NULL,
    PRIMARY KEY (from_did, to_did)
  ) WITHOUT ROWID;
  CREATE INDEX message_pairs_recent ON message_pairs (last_ts DESC, from_did, to_did);
  CREATE TABLE message_dids (did TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE message_bytes (k INTEGER PRIMARY KEY CHECK (k = 0), n INTEGER NOT NULL);
  INSERT INTO message_bytes (k, n) SELECT 0, COALESCE(SUM(octet_length(envelope)), 0) FROM messages;
  INSERT INTO message_pairs (from_did, to_did, n, last_ts)
    SELECT from_did, to_did, COUNT(*), MAX(ts) FROM messages
    WHERE to_did IS NOT NULL AND to_did != from_did GROUP BY from_did, to_did;
  INSERT INTO message_dids (did, n) SELECT did, SUM(n) FROM (
    SELECT from_did AS did, COUNT(*) AS n FROM messages GROUP BY from_did
    UNION ALL
    SELECT to_did, COUNT(*) FROM messages WHERE to_did IS NOT NULL AND to_did != from_did GROUP BY to_did
  ) GROUP BY did;
  CREATE TRIGGER messages_counted AFTER INSERT ON messages BEGIN
    UPDATE message_bytes SET n = n + octet_length(NEW.envelope) WHERE k = 0;
    INSERT INTO message_dids (did, n) VALUES (NEW.from_did, 1) ON CONFLICT (did) DO UPDATE SET n = n + 1;
    INSERT INTO message_dids (did, n) SELECT NEW.to_did, 1 WHERE NEW.to_did IS NOT NULL AND NEW.to_did != NEW.from_did
      ON CONFLICT (did) DO UPDATE SET n = n + 1;
    INSERT INTO message_pairs (from_did, to_did, n, last_ts)
      SELECT NEW.from_did, NEW.to_did, 1, NEW.ts WHERE NEW.to_did IS NOT NULL AND NEW.to_did != NEW.from_did
      ON CONFLICT (from_did, to_did) DO UPDATE SET n = n + 1, last_ts = MAX(last_ts, excluded.last_ts);
  END;
  CREATE TRIGGER messages_uncounted AFTER DELETE ON messages BEGIN
    UPDATE message_bytes SET n = n - octet_length(OLD.envelope) WHERE k = 0;
    UPDATE message_dids SET n = n - 1 WHERE did = OLD.from_did OR (did = OLD.to_did AND OLD.to_did != OLD.from_did);
    DELETE FROM message_dids WHERE did IN (OLD.from_did, OLD.to_did) AND n <= 0;
    UPDATE message_pairs SET n = n - 1 WHERE from_did = OLD.from_did AND to_did = OLD.to_did;
    DELETE FROM message_pairs WHERE from_did = OLD.from_did AND to_did = OLD.to_did AND n <= 0;
  END;
  `,
  // 21: migration 20's delete trigger, each statement on one key (attack review 101, F5, decision 0067 addendum).
  // Its `UPDATE message_dids … WHERE did = OLD.from_did OR (did = OLD.to_did …)` cost ~20 times the delete itself
  // (a MULTI-INDEX OR on a WITHOUT ROWID table for every deleted row), so retention's 10,000 deletes stalled ~2 s.
  `
  DROP TRIGGER messages_uncounted;
  CREATE TRIGGER messages_uncounted AFTER DELETE ON messages BEGIN
    UPDATE message_bytes SET n = n - octet_length(OLD.envelope) WHERE k = 0;
    UPDATE message_dids SET n = n - 1 WHERE did = OLD.from_did;
    DELETE FROM message_dids WHERE did = OLD.from_did AND n <= 0;
    UPDATE message_dids SET n = n - 1 WHERE did = OLD.to_did AND OLD.to_did != OLD.from_did;
    DELETE FROM message_dids WHERE did = OLD.to_did AND n <= 0;
    UPDATE message_pairs SET n = n - 1 WHERE from_did = OLD.from_did AND to_did = OLD.to_did;
    DELETE FROM message_pairs WHERE from_did = OLD.from_did AND to_did = OLD.to_did AND n <= 0;
  END;
  `,
  // 22: the connections of one DID by their second DID (attack review 116, decision 0081). A pair's key is
  // "<a> <b>" (a < b): the primary key finds the pairs a DID is first in, this index those it is second in, so
  // `GET /trust/:did` reads that DID's own rows, not every pair the node keeps (docs/protocol.md §7).
  `
  CREATE INDEX trust_pair_second ON trust_evidence (substr(key, instr(key, ' ') + 1), key) WHERE scope = 'pair';
  `,
]
