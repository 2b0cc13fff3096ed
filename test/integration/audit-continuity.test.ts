/**
 * Checkpoint continuity (issue 9, docs/audit.md): the node keeps its last
 * signed checkpoint in $MESHSIG_HOME, outside the database. A database
 * edited by someone with write access (audit rows deleted) is caught: the
 * node refuses to sign (LOG_INCONSISTENT), records checkpoint.inconsistent
 * and emits audit:inconsistent.
 */
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { isMeshsigError } from '../../node/core/errors.js'
import type { NodeEvent } from '../../node/events.js'
import { freshIdentity, startNode, tempDir } from '../helpers/mesh.js'

describe('checkpoint continuity', () => {
  const home = tempDir()
  afterAll(() => home.cleanup())

  it('a node whose audit rows were deleted refuses to sign and says why', async () => {
    const identity = freshIdentity()
    const dbPath = join(home.dir, 'meshsig.db')
    let node = await startNode({ home: home.dir, identity, dbPath })
    for (let i = 0; i < 3; i++) await node.registerAgent(`agent-${i}`)
    const signed = await node.checkpoint()
    await node.stop()

    const db = new Database(dbPath) // someone with write access truncates the log
    db.prepare('DELETE FROM audit_entries WHERE idx >= ?').run(signed.size - 2)
    db.prepare("DELETE FROM meta WHERE key = 'audit.frontier'").run()
    db.close()

    node = await startNode({ home: home.dir, identity, dbPath })
    const events: NodeEvent[] = []
    node.events.subscribe((e) => events.push(e))
    let code: string | undefined
    try {
      await node.checkpoint()
    } catch (err) {
      code = isMeshsigError(err) ? err.code : String(err)
    }
    expect(code).toBe('LOG_INCONSISTENT')
    expect(events.some((e) => e.type === 'audit:inconsistent' && e.data.local === true)).toBe(true)
    const last = node.audit.size() - 1
    const row = node.store.auditEntries.entries(last, 1)[0]!
    expect(JSON.parse(row.entry)).toMatchObject({ kind: 'checkpoint.inconsistent', subject: node.did })
    expect(node.audit.latest()?.size).toBe(signed.size) // nothing new was signed
    await node.stop()
  }, 60_000)
})
