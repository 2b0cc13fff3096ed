/**
 * History rewritten with write access to the node's files (issue 9): the
 * database's audit rows are deleted and, this time, the checkpoint anchor in
 * $MESHSIG_HOME too, so the node itself no longer notices and signs a
 * checkpoint over the rewritten log. Its peer, which witnessed the earlier
 * checkpoint, refuses to cosign the rewrite and raises the inconsistency:
 * a `checkpoint.inconsistent` entry about the node and witness evidence.
 * (With the anchor left in place the node refuses to sign at all:
 * test/integration/audit-continuity.test.ts.)
 */
import Database from 'better-sqlite3'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ANCHOR_FILE } from '../../node/identity/log-keys.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { freshIdentity, startNode, stopAll, tempDir } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'

describe('a rewritten log signed again under the node key', () => {
  const home = tempDir()
  const nodes: MeshNode[] = []
  afterAll(async () => {
    await stopAll(nodes)
    home.cleanup()
  })

  it('is refused by the peer that witnessed the old history, which records the inconsistency', async () => {
    const identity = freshIdentity()
    const dbPath = join(home.dir, 'meshsig.db')
    const init = { checkpointIntervalMs: 3_600_000 }
    const witness = await startNode()
    nodes.push(witness)
    let a = await startNode({ home: home.dir, identity, dbPath, init, peers: [witness.info().multiaddrs[0]!] })
    nodes.push(a)
    await waitFor(() => a.peers().length === 1, { timeout: 45_000 })
    for (let i = 0; i < 4; i++) await a.registerAgent(`agent-${i}`)
    const signed = await a.checkpoint()
    await waitFor(() => a.notes.note(signed).split('\n— ').length === 3, { timeout: 45_000 }) // cosigned
    await a.stop()
    nodes.splice(nodes.indexOf(a), 1)

    const db = new Database(dbPath) // write access to the files: truncate the log, and drop the anchor
    db.prepare('DELETE FROM audit_entries WHERE idx >= ?').run(signed.size - 3)
    db.prepare("DELETE FROM meta WHERE key = 'audit.frontier'").run()
    db.close()
    rmSync(join(home.dir, ANCHOR_FILE))

    a = await startNode({ home: home.dir, identity, dbPath, init, peers: [witness.info().multiaddrs[0]!] })
    nodes.push(a)
    await waitFor(() => a.peers().length === 1, { timeout: 45_000 })
    for (let i = 0; i < 6; i++) await a.registerAgent(`again-${i}`)
    const rewritten = await a.checkpoint() // the node no longer knows better
    expect(rewritten.size).toBeGreaterThan(signed.size)
    const raised = (): unknown[] =>
      witness.auditExport().entries.filter((e) => e.kind === 'checkpoint.inconsistent' && e.subject === a.did)
    await waitFor(() => raised().length > 0, { timeout: 45_000 })
    expect(witness.witness.evidence().some((e) => e.origin === a.did)).toBe(true)
    expect(a.notes.note(rewritten).split('\n— ')).toHaveLength(2) // no cosignature for the rewrite
  }, 180_000)
})
